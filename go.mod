module github.com/marketanalytics/pipeline

go 1.26.6
