//! Bookinfo's response bodies, and their rendering to the bytes the real
//! services send: details' and reviews' JSON, and productpage's HTML in the
//! Tailwind template the 1.20.x images ship (no `color="red"` any more: v3's
//! stars are `text-red-500`; filled stars are `<svg id="glyphicon
//! glyphicon-star" …>`, which the course's `grep glyphicon-star` counts).

use std::fmt::Write;

use crate::k8s::PodId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stars {
    /// reviews v1: `ENABLE_RATINGS=false`.
    None,
    Black,
    Red,
}

impl Stars {
    fn color(self) -> &'static str {
        match self {
            Stars::Red => "red",
            _ => "black",
        }
    }
}

/// What productpage got from reviews.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reviews {
    /// No 200 after two tries.
    Unavailable,
    Served {
        stars: Stars,
        ratings_ok: bool,
        pod: PodId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    ProductPage {
        details: bool,
        reviews: Reviews,
    },
    Details,
    Reviews(Reviews),
    Ratings,
    /// ratings v-faulty's 503.
    RatingsUnavailable,
}

const REVIEW_TEXTS: [(&str, &str, u32); 2] = [
    (
        "Reviewer1",
        "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!",
        5,
    ),
    (
        "Reviewer2",
        "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.",
        4,
    ),
];

impl Page {
    pub fn content_type(&self) -> &'static str {
        match self {
            Page::ProductPage { .. } => "text/html; charset=utf-8",
            _ => "application/json",
        }
    }

    /// The body bytes; `pod_name` names the pod that served a review.
    pub fn render(&self, pod_name: &dyn Fn(PodId) -> String) -> String {
        match self {
            Page::Details => DETAILS_JSON.to_string(),
            Page::Ratings => r#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#.to_string(),
            Page::RatingsUnavailable => r#"{"error":"Service unavailable"}"#.to_string(),
            Page::Reviews(Reviews::Unavailable) => {
                r#"{"error": "Sorry, product reviews are currently unavailable for this book."}"#
                    .to_string()
            }
            Page::Reviews(Reviews::Served {
                stars,
                ratings_ok,
                pod,
            }) => reviews_json(*stars, *ratings_ok, &pod_name(*pod)),
            Page::ProductPage { details, reviews } => productpage_html(*details, reviews, pod_name),
        }
    }
}

const DETAILS_JSON: &str = r#"{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}"#;

/// reviews builds its JSON by string concatenation; the spacing is its own.
fn reviews_json(stars: Stars, ratings_ok: bool, pod: &str) -> String {
    let mut s = format!(r#"{{"id": "0","podname": "{pod}","clustername": "null","reviews": ["#);
    for (i, (who, text, n)) in REVIEW_TEXTS.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, r#"{{  "reviewer": "{who}",  "text": "{text}""#);
        match (stars, ratings_ok) {
            (Stars::None, _) => {}
            (_, true) => {
                let _ = write!(
                    s,
                    r#", "rating": {{"stars": {n}, "color": "{}"}}"#,
                    stars.color()
                );
            }
            (_, false) => {
                s.push_str(r#", "rating": {"error": "Ratings service is currently unavailable"}"#)
            }
        }
        s.push('}');
    }
    s.push_str("]}");
    s
}

const FILLED_STAR: &str = r#"              <svg id="glyphicon glyphicon-star" class="h-5 w-5 flex-none" viewBox="0 0 20 20" fill="currentColor" aria-hidden="true">
                <path fill-rule="evenodd" d="M10.868 2.884c-.321-.772-1.415-.772-1.736 0l-1.83 4.401-4.753.381c-.833.067-1.171 1.107-.536 1.651l3.62 3.102-1.106 4.637c-.194.813.691 1.456 1.405 1.02L10 15.591l4.069 2.485c.713.436 1.598-.207 1.404-1.02l-1.106-4.637 3.62-3.102c.635-.544.297-1.584-.536-1.65l-4.752-.382-1.831-4.401z" clip-rule="evenodd" />
              </svg>
"#;

const EMPTY_STAR: &str = r#"              <svg xmlns="http://www.w3.org/2000/svg" fill="none" viewBox="0 0 24 24" stroke-width="1.5" stroke="currentColor" class="h-5 w-5 flex-none">
                <path stroke-linecap="round" stroke-linejoin="round" d="M11.48 3.499a.562.562 0 0 1 1.04 0l2.125 5.111a.563.563 0 0 0 .475.345l5.518.442c.499.04.701.663.321.988l-4.204 3.602a.563.563 0 0 0-.182.557l1.285 5.385a.562.562 0 0 1-.84.61l-4.725-2.885a.562.562 0 0 0-.586 0L6.982 20.54a.562.562 0 0 1-.84-.61l1.285-5.386a.562.562 0 0 0-.182-.557l-4.204-3.602a.562.562 0 0 1 .321-.988l5.518-.442a.563.563 0 0 0 .475-.345L11.48 3.5Z" />
              </svg>
"#;

const HEAD: &str = r##"<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Simple Bookstore App</title>
<script src="static/tailwind/tailwind.css"></script>
<nav class="bg-gray-800">
  <div class="container mx-auto px-4 sm:px-6 lg:px-8">
    <div class="relative flex h-16 items-center justify-between">
      <a href="#" class="text-white px-3 py-2 text-lg font-medium" aria-current="page">BookInfo Sample</a>
      <div class="absolute inset-y-0 right-0 flex items-center pr-2 sm:static sm:inset-auto sm:ml-6 sm:pr-0">
          <button type="button" id="sign-in-button" class="rounded-md bg-blue-600 px-3.5 py-2.5 text-sm font-semibold text-white shadow-sm hover:bg-blue-500">
            Sign in
          </button>
      </div>
    </div>
  </div>
</nav>
<!-- Book description section -->
<div class="container mt-8 mx-auto px-4 sm:px-6 lg:px-8">
  <h1 class="text-5xl font-bold tracking-tight text-blue-900">The Comedy of Errors</h1>
  <div class="mt-6 max-w-4xl">
    <p class="mt-6 text-xl leading-8 text-gray-600"><a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.</p>
    <div class="mt-6">
      <a href="https://istio.io" target="_blank" class="text-sm font-semibold leading-6 text-blue-600 hover:text-blue-700">Learn more about Istio <span aria-hidden="true">→</span></a>
    </div>
  </div>
</div>
"##;

const DETAILS_TABLE: &str = r#"          <h4 class="text-3xl font-semibold">Book Details</h4>
          <table class="min-w-full divide-y divide-gray-300">
            <thead>
              <tr>
                <th scope="col" class="whitespace-nowrap py-3.5 pl-4 pr-3 text-left text-sm font-semibold text-gray-900 sm:pl-0">ISBN-10</th>
                <th scope="col" class="whitespace-nowrap px-2 py-3.5 text-left text-sm font-semibold text-gray-900">Publisher</th>
                <th scope="col" class="whitespace-nowrap px-2 py-3.5 text-left text-sm font-semibold text-gray-900">Pages</th>
                <th scope="col" class="whitespace-nowrap px-2 py-3.5 text-left text-sm font-semibold text-gray-900">Type</th>
                <th scope="col" class="whitespace-nowrap px-2 py-3.5 text-left text-sm font-semibold text-gray-900">Language</th>
              </tr>
            </thead>
            <tbody class="divide-y divide-gray-200 bg-white">
              <tr>
                <td class="whitespace-nowrap py-2 pl-4 pr-3 text-sm text-gray-500 sm:pl-0">1234567890</td>
                <td class="whitespace-nowrap px-2 py-2 text-sm font-medium text-gray-900">PublisherA</td>
                <td class="whitespace-nowrap px-2 py-2 text-sm text-gray-900">200</td>
                <td class="whitespace-nowrap px-2 py-2 text-sm text-gray-500">paperback</td>
                <td class="whitespace-nowrap px-2 py-2 text-sm text-gray-500">English</td>
              </tr>
            </tbody>
          </table>
"#;

fn error_block(indent: &str, heading: &str, text: &str) -> String {
    format!(
        "{indent}<p class=\"text-2xl text-red-500\">{heading}</p>\n{indent}<p class=\"text-lg text-gray-600\">{text}</p>\n"
    )
}

fn productpage_html(
    details: bool,
    reviews: &Reviews,
    pod_name: &dyn Fn(PodId) -> String,
) -> String {
    let mut s = String::with_capacity(16 * 1024);
    s.push_str(HEAD);
    s.push_str("<!-- Book details table -->\n<div class=\"container mt-8 mx-auto px-4 sm:px-6 lg:px-8\">\n  <div class=\"mt-4 py-10\">\n      <div class=\"max-w-2xl\">\n        <div class=\"flow-root\">\n");
    if details {
        s.push_str(DETAILS_TABLE);
    } else {
        s.push_str(&error_block(
            "          ",
            "Error fetching product details",
            "Sorry, product details are currently unavailable for this book.",
        ));
    }
    s.push_str("        </div>\n      </div>\n  </div>\n</div>\n");
    s.push_str("<!-- Book reviews section -->\n<div class=\"bg-blue-600/5 py-12 mx-auto\" >\n  <div class=\"container mx-auto px-4 sm:px-6 lg:px-8>\n    <div class=\"max-w-2xl\">\n");
    match reviews {
        Reviews::Unavailable => s.push_str(&error_block(
            "      ",
            "Error fetching product reviews",
            "Sorry, product reviews are currently unavailable for this book.",
        )),
        Reviews::Served {
            stars,
            ratings_ok,
            pod,
        } => {
            let pod = pod_name(*pod);
            s.push_str("      <h4 class=\"text-3xl font-semibold\">Book Reviews</h4>\n      <div class=\"flex flex-col md:flex-row\">\n");
            for (who, text, n) in REVIEW_TEXTS {
                s.push_str("        <section class=\"px-6 py-12 sm:py-8 lg:px-8\">\n          <div class=\"mx-auto max-w-2xl\">\n");
                match (stars, ratings_ok) {
                    (Stars::None, _) => {}
                    (_, true) => {
                        let _ = writeln!(
                            s,
                            "            <div class=\"flex gap-x-1 text-{}-500\">",
                            stars.color()
                        );
                        for i in 0..5 {
                            s.push_str(if i < n { FILLED_STAR } else { EMPTY_STAR });
                        }
                        s.push_str("            </div>\n");
                    }
                    (_, false) => {
                        s.push_str("            <p class=\"text-red-500\">Ratings service is currently unavailable</p>\n");
                    }
                }
                let _ = write!(
                    s,
                    "            <blockquote class=\"mt-10 text-xl font-semibold leading-8 tracking-tight text-gray-900 sm:text-2xl sm:leading-9\">\n              <p>\"{text}\"</p>\n            </blockquote>\n            <div class=\"mt-4 flex items-center gap-x-6\">\n              <img class=\"h-16 w-16 rounded-full bg-gray-50\" src=\"/static/img/izzy.png\" alt=\"Izzy\">\n              <div class=\"text-sm leading-6\">\n                <div class=\"font-semibold text-gray-900\">{who}</div>\n                <div class=\"mt-0.5 text-gray-600 font-mono\">Reviews served by: \n                  {pod}\n                </div>\n              </div>\n            </div>\n        </section>\n"
                );
            }
            s.push_str("      </div>\n");
        }
    }
    s.push_str("    </div>\n    </div>\n  </div>\n</div>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(_: PodId) -> String {
        "reviews-v2-7bd9d8d7cb-r5vzl".to_string()
    }

    fn page(stars: Stars, ratings_ok: bool) -> String {
        Page::ProductPage {
            details: true,
            reviews: Reviews::Served {
                stars,
                ratings_ok,
                pod: PodId(0),
            },
        }
        .render(&name)
    }

    #[test]
    fn the_title_the_course_greps_for() {
        assert!(page(Stars::None, true).contains("<title>Simple Bookstore App</title>"));
    }

    #[test]
    fn stars_per_version_as_the_course_greps_them() {
        let count = |s: &str| s.matches("glyphicon-star").count();
        assert_eq!(count(&page(Stars::None, true)), 0);
        assert_eq!(count(&page(Stars::Black, true)), 9, "5 + 4 filled stars");
        assert_eq!(count(&page(Stars::Red, true)), 9);
        assert!(page(Stars::Red, true).contains("text-red-500"));
        assert!(page(Stars::Black, true).contains("text-black-500"));
        // The Tailwind template has no <font color="red"> any more.
        assert!(!page(Stars::Red, true).contains("color=\"red\""));
        assert_eq!(count(&page(Stars::Black, false)), 0);
        assert_eq!(
            page(Stars::Black, false)
                .matches("Ratings service is currently unavailable")
                .count(),
            2
        );
    }

    #[test]
    fn failures_show_the_fallback_texts() {
        let p = Page::ProductPage {
            details: false,
            reviews: Reviews::Unavailable,
        }
        .render(&name);
        assert!(p.contains("Error fetching product details"));
        assert!(p.contains("Sorry, product details are currently unavailable for this book."));
        assert!(p.contains("Error fetching product reviews"));
        assert!(p.contains("Sorry, product reviews are currently unavailable for this book."));
    }

    #[test]
    fn reviews_json_is_byte_for_byte_the_services() {
        let v1 = Page::Reviews(Reviews::Served {
            stars: Stars::None,
            ratings_ok: true,
            pod: PodId(0),
        })
        .render(&|_| "reviews-v1-POD".into());
        assert_eq!(
            v1,
            r#"{"id": "0","podname": "reviews-v1-POD","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},{  "reviewer": "Reviewer2",  "text": "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."}]}"#
        );
        let v3 = Page::Reviews(Reviews::Served {
            stars: Stars::Red,
            ratings_ok: true,
            pod: PodId(0),
        })
        .render(&|_| "reviews-v3-POD".into());
        assert!(v3.contains(r#""rating": {"stars": 5, "color": "red"}"#));
        assert!(v3.contains(r#""rating": {"stars": 4, "color": "red"}"#));
    }
}
