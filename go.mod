module github.com/vippskit/vipps

go 1.26
