module github.com/marketanalytics/pipeline/stacks/compute

go 1.26.6
