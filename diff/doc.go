// Package diff compares two published runs line by line and in totals: the
// question an actuary asks after a what-if run ("which lines moved, by how
// much, and why").
//
// A Differ joins the two runs' remittances on (claim_id, line_no) and yields
// every line that differs (changed, only in A, only in B) as an iterator;
// when the lines are done, its Summary holds the totals of both runs per
// plan currency, per module and per benefit, the reason codes that appeared
// or disappeared on lines, the exceptions by code and the payments per
// payee. Summary.WriteText prints the summary for people, Summary.WriteJSON
// writes it as diff.json, CSVWriter writes the lines as diff.csv.
//
// # The join
//
// Both remittances are sorted by (member_id, service_date, received_date,
// claim_id, line_no) (SPEC section 7). received_date is not a column, so the
// join does not re-sort: it walks both files in step, by member_id. Rows of
// one member whose keys come in a different order in the two files (a
// received_date that changed, a line only in one run) wait in a pending map
// until their partner turns up; once both files have passed that member,
// what is still pending is "only in A" or "only in B". Lines come out in the
// order the join settles them, so a line that waited comes after the lines
// settled while it waited (diff.csv keeps that order). A line whose
// member_id differs between the runs is therefore a line of A only and a
// line of B only. A file whose member_id goes down is not a remittance:
// ErrOrder. Payments are joined the same way on their sort key (payee_type,
// payee_id, plan_currency).
//
// # Memory
//
// Memory does not grow with the runs' size. Held for the whole diff: the
// totals per plan currency, per (currency, module), per (currency, benefit)
// and per (currency, reason code), the exception counts per code, and the
// largest payee changes (Options.TopPayees of them). Held for a while: the
// pending rows of the current member, empty when the two files are in step.
// Nothing holds a line or a payee once it is compared.
//
// # What counts as a change
//
// Every remittance column but run_id (which differs between any two runs by
// design) is compared: amounts and fx_rate by value (so a CSV run and a
// Parquet run of the same inputs compare equal), the others as text. The
// runs are identical when no line changed and none is only in one run, the
// exception counts per code are equal and every payee has the same
// line_count and plan_paid.
//
// diff imports claim, readers and internal/rundir.
package diff
