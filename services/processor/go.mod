module github.com/marketanalytics/pipeline/services/processor

go 1.26.6

replace (
	github.com/marketanalytics/pipeline/services/platform => ../platform
	github.com/marketanalytics/pipeline/shared => ../../shared
)

require github.com/aws/aws-lambda-go v1.55.1
