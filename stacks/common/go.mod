module github.com/marketanalytics/pipeline/stacks/common

go 1.26.6
