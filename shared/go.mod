module github.com/marketanalytics/pipeline/shared

go 1.26.6
