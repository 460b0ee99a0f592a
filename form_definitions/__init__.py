"""The core's form and case-type definitions; installed as ``fengqiao.bundled.form_definitions``."""
