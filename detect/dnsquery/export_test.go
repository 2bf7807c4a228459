package dnsquery

// BenignQueries is benignQueries for the tests of package dnsquery_test.
var BenignQueries = benignQueries
