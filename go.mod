module github.com/plan9fossil/fossil

go 1.26.8

require (
	9fans.net/go v0.0.8-0.20250307142834-96bdba94b63f
	github.com/knusbaum/go9p v1.18.0
	github.com/mischief/ndb v0.1.0
)

require (
	github.com/Plan9-Archive/libauth v0.0.0-20180917063427-d1ca9e94969d // indirect
	github.com/emersion/go-sasl v0.0.0-20200509203442-7bfe0ed36a21 // indirect
	github.com/fhs/mux9p v0.3.1 // indirect
)
