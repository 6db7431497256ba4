//! Placeholder: the full types are being written.

use serde::Deserialize;

use super::kinds::Validate;
use super::meta::ObjectMeta;
use super::validate::Validator;
use crate::spec_resources;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Telemetry {}

impl Validate for Telemetry {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

spec_resources!(Telemetry);
