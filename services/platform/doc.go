// Package platform holds what the three Lambda services share at run time and
// that is not part of the data contract: AWS client configuration, tracing and
// logging. The data contract lives in the shared module.
package platform
