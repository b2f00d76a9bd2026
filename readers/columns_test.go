package readers

import (
	"errors"
	"testing"
)

// TestMissingColumns covers issue 12, finding 7 (guard rails): every missing
// column is listed at once, each with the header name it most likely is,
// and a header separated by ';', tab or '|' says so.
func TestMissingColumns(t *testing.T) {
	tests := []struct {
		name, header, want string
	}{
		{"typos", "claimid,line_no,member id,service_date,benefit_code,country,currency,billed_amt\n",
			`c.csv: missing required columns claim_id (did you mean "claimid"?), member_id (did you mean "member id"?), billed_amount (did you mean "billed_amt"?)`},
		{"case", "claim_id,line_no,Member_ID,service_date,benefit_code,country,currency,billed_amount\n",
			`c.csv: missing required column member_id (did you mean "Member_ID"?)`},
		{"nothing alike", "claim_id,line_no,M101,service_date,benefit_code,country,currency,billed_amount\n",
			`c.csv: missing required column member_id`},
		{"semicolons", "claim_id;line_no;member_id;service_date;benefit_code;country;currency;billed_amount\n",
			"c.csv: missing required columns claim_id, line_no, member_id, service_date, benefit_code, country, currency, billed_amount; the header looks ';'-separated, but claimsbatch reads comma-separated CSV: convert the file (e.g. with csvformat -d ';')"},
		{"tabs", "claim_id\tline_no\tmember_id\tservice_date\tbenefit_code\tcountry\tcurrency\tbilled_amount\n",
			"c.csv: missing required columns claim_id, line_no, member_id, service_date, benefit_code, country, currency, billed_amount; the header looks tab-separated, but claimsbatch reads comma-separated CSV: convert the file (e.g. with csvformat -d '\\t')"},
		{"pipes", "claim_id|line_no|member_id|service_date|benefit_code|country|currency|billed_amount\n",
			"c.csv: missing required columns claim_id, line_no, member_id, service_date, benefit_code, country, currency, billed_amount; the header looks '|'-separated, but claimsbatch reads comma-separated CSV: convert the file (e.g. with csvformat -d '|')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "c.csv", []byte(tt.header))
			_, err := readClaims(t, path, Options{})
			var mc *MissingColumnsError
			if !errors.Is(err, ErrMissingColumn) || !errors.As(err, &mc) || err.Error() != path[:len(path)-len("c.csv")]+tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}

// TestUndecodableHeader covers issue 12, finding 5: a UTF-16 claims file
// (with or without a byte order mark) or a Latin-1 header is a format
// error (exit 2), with the way to convert it.
func TestUndecodableHeader(t *testing.T) {
	utf16 := func(s string, bom bool) []byte {
		var b []byte
		if bom {
			b = append(b, 0xFF, 0xFE)
		}
		for _, c := range []byte(s) {
			b = append(b, c, 0)
		}
		return b
	}
	header := "claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount\n"
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"utf-16 with BOM", utf16(header, true), "c.csv: the file starts with a UTF-16 byte order mark (FFFE): claimsbatch reads UTF-8 CSV; convert it first (e.g. iconv -f UTF-16 -t UTF-8): readers: unsupported format"},
		{"utf-16 without BOM", utf16(header, false), "c.csv: header: column 1 holds NUL bytes: the file looks UTF-16 encoded; claimsbatch reads UTF-8 CSV; convert it first (e.g. iconv -f UTF-16LE -t UTF-8): readers: unsupported format"},
		{"latin-1 header", []byte("claim_id,line_no,member_id,service_date,benefit_code,country,currency,billed_amount,r\xe9gion\n"), "c.csv: header: column 9 is not valid UTF-8: claimsbatch reads UTF-8 CSV; convert the file first (e.g. iconv -f LATIN1 -t UTF-8): readers: unsupported format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "c.csv", tt.data)
			_, err := readClaims(t, path, Options{})
			if !errors.Is(err, ErrFormat) || err.Error() != path[:len(path)-len("c.csv")]+tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}
}
