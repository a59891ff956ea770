// Package billingd holds the files the binary embeds from the repository
// root: the OpenAPI document, served byte for byte at /openapi.yaml.
package billingd

import _ "embed"

// OpenAPI is openapi.yaml, the public contract.
//
//go:embed openapi.yaml
var OpenAPI []byte
