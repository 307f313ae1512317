module github.com/marketanalytics/pipeline/stacks/api

go 1.26.6
