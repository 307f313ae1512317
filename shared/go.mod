module github.com/marketanalytics/pipeline/shared

go 1.26.6

require github.com/aws/aws-sdk-go-v2 v1.48.0
