package readers

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// benchRows is a realistic claims extract: every column filled, ~150 bytes a
// row, a mix of benefits, countries and currencies.
func benchRows(n int) []byte {
	var b bytes.Buffer
	b.WriteString("claim_id,line_no,member_id,service_date,service_end_date,received_date,benefit_code,diagnosis_code,item_code,country,emergency,trip_id,provider_id,payee,currency,billed_amount,units\n")
	benefits := []string{"HOSPITAL_ACCOMMODATION", "OP_CONSULTATION", "DENTAL_ROUTINE", "CANCER_DEVICE"}
	countries := []string{"FR", "GB", "US", "de"}
	currencies := []string{"EUR", "GBP", "USD", "eur"}
	for i := 0; i < n; i++ {
		item := ""
		if i%4 == 3 {
			item = "WIG"
		}
		fmt.Fprintf(&b, "CLM%08d,%d,MBR%06d,2024-%02d-%02d,2024-%02d-%02d,2024-%02d-28,%s,C%02d.%d,%s,%s,%s,%s,PRV%05d,provider,%s,%d.%02d,%d\n",
			i/3, i%3+1, i%50000, i%12+1, i%27+1, i%12+1, i%27+2, i%12+1, benefits[i%4], i%100, i%10, item,
			countries[i%4], "N", "", i%999, currencies[i%4], 100+i%5000, i%100, 1+i%3)
	}
	return b.Bytes()
}

const benchN = 200_000

func benchmarkClaims(b *testing.B, name string, data []byte) {
	path := writeFile(b, name, data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var rows int64
	for b.Loop() {
		r, err := OpenClaims(path, 0, plan, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Next() {
			n += len(r.Lines())
			if len(r.Exceptions()) > 0 {
				b.Fatalf("exception %+v", r.Exceptions()[0])
			}
		}
		if err := r.Err(); err != nil || n != benchN {
			b.Fatalf("%d lines, err %v", n, err)
		}
		rows += r.Rows()
		r.Close()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkReadClaimsCSV(b *testing.B) {
	benchmarkClaims(b, "claims.csv", benchRows(benchN))
}

func BenchmarkReadClaimsCSVGzip(b *testing.B) {
	benchmarkClaims(b, "claims.csv.gz", gzipBytes(b, benchRows(benchN)))
}

func BenchmarkReadClaimsParquet(b *testing.B) {
	benchmarkClaims(b, "claims.parquet", benchParquet(b, benchRows(benchN)))
}

// benchParquet writes the rows of a benchRows CSV as typed Parquet: dates
// DATE, amounts DECIMAL(18,2), integers INT32, the flag BOOLEAN, the rest
// strings (dictionary encoded), 64 Ki rows a row group.
func benchParquet(b *testing.B, data []byte) []byte {
	res, err := readClaimsMem("claims.csv", data, Options{})
	if err != nil {
		b.Fatal(err)
	}
	// Write the same rows as typed Parquet.
	rows := make([]map[string]string, len(res.lines))
	for i, l := range res.lines {
		rows[i] = map[string]string{
			"claim_id": l.ClaimID, "line_no": fmt.Sprint(l.LineNo), "member_id": l.MemberID, "service_date": l.ServiceDate.String(),
			"service_end_date": l.ServiceEndDate.String(), "received_date": l.ReceivedDate.String(), "benefit_code": l.BenefitCode,
			"diagnosis_code": l.Diagnosis, "item_code": l.ItemCode, "country": l.Country, "emergency": "N", "provider_id": l.ProviderID,
			"payee": "provider", "currency": l.Currency, "billed_amount": l.Billed.String(), "units": fmt.Sprint(l.Units),
		}
	}
	cols := []arrowColumn{}
	for _, c := range claimColumns {
		typ := arrow.DataType(arrow.BinaryTypes.String)
		switch c.kind {
		case kindDate:
			typ = arrow.FixedWidthTypes.Date32
		case kindInt:
			typ = arrow.PrimitiveTypes.Int32
		case kindMoney:
			typ = &arrow.Decimal128Type{Precision: 18, Scale: 2}
		case kindFlag:
			typ = arrow.FixedWidthTypes.Boolean
		}
		cols = append(cols, arrowColumn{c.name, typ})
	}
	return writeArrow(b, cols, rows, 64<<10)
}
