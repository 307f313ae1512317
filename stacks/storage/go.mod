module github.com/marketanalytics/pipeline/stacks/storage

go 1.26.6
