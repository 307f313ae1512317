// Package shared is the contract between the infrastructure stacks and the
// Lambda services of the market-data pipeline: resource names, tags, stack
// output keys, Lambda environment variables, limits, and the record, message,
// table-key and event formats.
//
// Each fact lives here once. The module depends on the standard library and
// the AWS SDK's small core module only (aws/arn, which arns builds ARNs with;
// the services already depend on it), so both the Pulumi programs and the
// Lambda binaries can import it cheaply.
package shared
