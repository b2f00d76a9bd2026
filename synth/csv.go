package synth

import (
	"strings"

	"claimsbatch/claim"
)

// CSV writers. Rows are assembled in a reused buffer with append helpers;
// generated values never contain a comma, quote or newline, so no field
// needs quoting.

func writeHeader(w *chunkWriter, cols []string) {
	w.Write([]byte(strings.Join(cols, ",") + "\n"))
}

type csvMembers struct {
	w   *chunkWriter
	buf []byte
}

func newCSVMembers(w *chunkWriter) *csvMembers {
	writeHeader(w, memberColumns)
	return &csvMembers{w: w}
}

func (c *csvMembers) member(g *gen, m *member) error {
	for i := 0; i < m.nSpans; i++ {
		s := &m.spans[i]
		b := c.buf[:0]
		b = g.appendMemberID(b, m.num)
		b = g.appendPolicyID(append(b, ','), m.num, i+1)
		b = s.start.AppendTo(append(b, ','))
		b = append(b, ',')
		if s.end != claim.OpenEnd {
			b = s.end.AppendTo(b)
		}
		b = m.dob.AppendTo(append(b, ','))
		b = append(append(b, ','), countries[m.residence].code...)
		b = append(append(b, ','), countries[m.origin].code...)
		b = append(b, ',')
		if m.usCover != 0 {
			b = append(b, m.usCover)
		}
		b = append(append(b, ','), g.plan.Currencies[m.planCur]...)
		b = append(append(b, ','), m.moduleText...)
		b = appendOptMoney(append(b, ','), s.coreDed)
		b = appendOptPercent(append(b, ','), s.coreCoins)
		b = appendOptMoney(append(b, ','), s.coreOOP)
		b = appendOptMoney(append(b, ','), s.opDed)
		b = appendOptPercent(append(b, ','), s.opCoins)
		b = appendOptMoney(append(b, ','), s.opOOP)
		b = append(b, '\n')
		if _, err := c.w.Write(b); err != nil {
			return err
		}
		c.buf = b
	}
	return nil
}

func (c *csvMembers) close() error { return nil }

func appendOptMoney(b []byte, v claim.Money) []byte {
	if v == notGiven {
		return b
	}
	return v.AppendTo(b)
}

func appendOptPercent(b []byte, bp int64) []byte {
	if bp == notGiven {
		return b
	}
	return appendPercent(b, bp)
}

type csvClaims struct {
	w   *chunkWriter
	buf []byte
}

func newCSVClaims(w *chunkWriter) *csvClaims {
	writeHeader(w, claimColumns[:])
	return &csvClaims{w: w}
}

func (c *csvClaims) line(g *gen, l *line, claimNo int64) error {
	b := c.buf[:0]
	empty := -1
	if l.bad == badEmptyField {
		empty = requiredClaimFields[int(l.badArg)%len(requiredClaimFields)]
	}
	badDateCol := -1
	if l.bad == badDate {
		badDateCol = [3]int{colServiceDate, colReceivedDate, colServiceEndDate}[l.badArg%3]
	}
	lastCol := numClaimCols
	if l.bad == badFieldCount && l.badArg%2 == 0 {
		lastCol-- // one field too few
	}
	for col := 0; col < lastCol; col++ {
		if col > 0 {
			b = append(b, ',')
		}
		if col == empty {
			continue
		}
		if col == badDateCol {
			d := l.service
			if col == colReceivedDate && l.received != claim.NoDate {
				d = l.received
			}
			b = appendBadDate(b, d, l.badArg/3)
			continue
		}
		switch col {
		case colClaimID:
			b = g.appendClaimID(b, claimNo)
		case colLineNo:
			b = appendPadded(b, int64(l.lineNo), 1)
		case colMemberID:
			if l.bad == badMember {
				b = g.appendUnknownMemberID(b, l.member)
			} else {
				b = g.appendMemberID(b, l.member)
			}
		case colServiceDate:
			b = appendDate(b, l.service)
		case colServiceEndDate:
			if l.bad == badEndBeforeStart {
				b = appendDate(b, l.service-1-claim.Date(l.badArg%5))
			} else {
				b = appendDate(b, l.end)
			}
		case colReceivedDate:
			b = appendDate(b, l.received)
		case colBenefitCode:
			if l.bad == badBenefit {
				b = append(b, unknownBenefits[int(l.badArg)%len(unknownBenefits)]...)
			} else {
				b = append(b, g.plan.Benefits[l.benefit].Code...)
			}
		case colDiagnosisCode:
			if l.diag >= 0 {
				b = append(b, diagnoses[l.diag]...)
			}
		case colItemCode:
			if l.item > 0 {
				b = append(b, g.profiles[l.benefit].items[l.item-1]...)
			}
		case colCountry:
			b = append(b, countries[l.country].code...)
		case colEmergency:
			if l.bad == badEmergency {
				b = append(b, 'X')
			} else if l.emergency != 0 {
				b = append(b, l.emergency)
			}
		case colTripID:
			if l.trip > 0 {
				b = g.appendTripID(b, l)
			}
		case colProviderID:
			if l.provider > 0 {
				b = appendProviderID(b, l.provider)
			}
		case colPayee:
			switch l.payee {
			case payeeProvider:
				b = append(b, "provider"...)
			case payeeMember:
				b = append(b, "member"...)
			}
		case colCurrency:
			if l.bad == badCurrency {
				b = append(b, noRateCurrencies[int(l.badArg)%len(noRateCurrencies)]...)
			} else {
				b = append(b, g.currencies[l.currency].code...)
			}
		case colBilledAmount:
			switch l.bad {
			case badNegative:
				amt := l.billed
				if amt == 0 {
					amt = 1234
				}
				b = (-amt).AppendTo(b)
			case badThreeDecimals:
				b = append(l.billed.AppendTo(b), byte('1'+l.badArg%9))
			default:
				b = l.billed.AppendTo(b)
			}
		case colUnits:
			if l.units > 0 {
				b = appendPadded(b, int64(l.units), 1)
			}
		}
	}
	if l.bad == badFieldCount && l.badArg%2 == 1 {
		b = append(b, ",EXTRA"...) // one field too many
	}
	b = append(b, '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

func (c *csvClaims) close() error { return nil }

type csvFX struct {
	w   *chunkWriter
	buf []byte
}

func newCSVFX(w *chunkWriter) *csvFX {
	writeHeader(w, fxColumns)
	return &csvFX{w: w}
}

func (c *csvFX) rate(d claim.Date, currency, planCurrency string, micro int64) error {
	b := appendDate(c.buf[:0], d)
	b = append(append(b, ','), currency...)
	b = append(append(b, ','), planCurrency...)
	b = appendRate(append(b, ','), micro)
	b = append(b, '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

func (c *csvFX) close() error { return nil }
