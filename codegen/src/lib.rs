//! AWS API models -> IR -> generated resource managers and CRD YAML.
