module github.com/plan9fossil/fossil

go 1.26.8

require github.com/mischief/ndb v0.1.0
