module github.com/marketanalytics/pipeline/stacks/messaging

go 1.26.6
