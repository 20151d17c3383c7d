module github.com/plan9fossil/fossil

go 1.26.8

require (
	9fans.net/go v0.0.8-0.20250307142834-96bdba94b63f
	github.com/knusbaum/go9p v1.18.0
	github.com/mischief/ndb v0.1.0
)
