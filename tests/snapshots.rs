//! The report of a fixed run, as a reviewed snapshot in `snapshots/`: any
//! change to the model's numbers or the report's layout shows up in review
//! (`cargo insta review`, or delete the file to accept a new one).

use std::path::Path;

use meshsim::cli::run::simulate;
use meshsim::scenario;
use meshsim::sim::SimDuration;

#[test]
fn bookinfo_report_at_seed_7() {
    let mut s = scenario::load(Path::new("scenarios/bookinfo.yaml")).unwrap();
    s.seed = 7;
    s.duration = SimDuration::from_secs(20);
    let text = simulate(&s).unwrap().unwrap().to_text();
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("bookinfo_seed7_20s", text);
    });
}
