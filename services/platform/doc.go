// Package platform holds what the three Lambda services share at run time and
// that is not part of the data contract: their environment (envconfig, which
// loads a service's shared/lambdaenv list), AWS client configuration, tracing
// and logging, API Gateway answers (apiresp), the one retry policy (backoff)
// and batched DynamoDB writes (dynamobatch). Package awstest is the moto setup
// their integration tests share. The data contract lives in the shared module.
package platform
