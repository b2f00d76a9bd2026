// Package claim holds the domain types every stage of claimsbatch shares: claim
// lines, member coverage spans, adjudicated results, exceptions, money and dates.
//
// It is a leaf package: it imports nothing from the rest of the module, so the
// readers, the writers, the engine and the pipeline can all depend on it without
// cycles. Money is held in integer minor units (cents) and dates as days since
// 1970-01-01, so the engine's hot path does no allocation and no float arithmetic.
package claim
