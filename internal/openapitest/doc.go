// Package openapitest loads the OpenAPI files Vipps publishes, for the
// contract tests of the client (package vipps) and of the simulator
// (package vippstest).
//
// The files are not in this repository: they sit in shared/reference
// beside the checkout (../shared/reference from the module root, the same
// in CI). [Dir] finds them; without them a test skips, unless the
// environment variable CI is set, when it fails.
//
// The files are used as Vipps publishes them, with their known defects
// (shared/reference/ecom-v2.md §0 and §14) worked around in memory by
// [Load]; each workaround is described where it is made.
package openapitest
