//! Placeholder: the full types are being written.

use serde::Deserialize;

use super::kinds::Validate;
use super::meta::ObjectMeta;
use super::validate::Validator;
use crate::spec_resources;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct GatewayClass {}

impl Validate for GatewayClass {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Gateway {}

impl Validate for Gateway {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct HttpRoute {}

impl Validate for HttpRoute {
    fn validate(&self, _meta: &ObjectMeta, _v: &mut Validator) {}
}

spec_resources!(GatewayClass, Gateway, HttpRoute);
