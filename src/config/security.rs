//! Placeholder: the full types are being written.

use serde::Deserialize;

use super::kinds::Validate;
use super::meta::ObjectMeta;
use super::validate::Validator;
use crate::spec_resources;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct PeerAuthentication {}

impl Validate for PeerAuthentication {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct AuthorizationPolicy {}

impl Validate for AuthorizationPolicy {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct RequestAuthentication {}

impl Validate for RequestAuthentication {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

spec_resources!(
    PeerAuthentication,
    AuthorizationPolicy,
    RequestAuthentication
);
