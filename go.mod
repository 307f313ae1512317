module github.com/marketanalytics/pipeline

go 1.26.6

require (
	github.com/magefile/mage v1.17.2
	github.com/marketanalytics/pipeline/shared v0.0.0
	github.com/marketanalytics/pipeline/tools v0.0.0
)

require github.com/aws/aws-sdk-go-v2 v1.48.0 // indirect

replace (
	github.com/marketanalytics/pipeline/shared => ./shared
	github.com/marketanalytics/pipeline/tools => ./tools
)

replace github.com/marketanalytics/pipeline/services/platform => ./services/platform
