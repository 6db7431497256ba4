//! Placeholder: the full types are being written.

use serde::Deserialize;

use crate::config::kinds::Validate;
use crate::config::meta::ObjectMeta;
use crate::config::validate::Validator;
use crate::spec_resources;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Sidecar {}

impl Validate for Sidecar {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

spec_resources!(Sidecar);
