module github.com/marketanalytics/pipeline/tools/synth

go 1.26.6

replace (
	github.com/marketanalytics/pipeline/shared => ../../shared
	github.com/marketanalytics/pipeline/stacks/api => ../../stacks/api
	github.com/marketanalytics/pipeline/stacks/common => ../../stacks/common
	github.com/marketanalytics/pipeline/stacks/compute => ../../stacks/compute
	github.com/marketanalytics/pipeline/stacks/messaging => ../../stacks/messaging
	github.com/marketanalytics/pipeline/stacks/storage => ../../stacks/storage
)
