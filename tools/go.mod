module github.com/marketanalytics/pipeline/tools

go 1.26.6
