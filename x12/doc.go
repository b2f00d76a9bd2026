// Package x12 writes and checks ASC X12 835 Health Care Claim
// Payment/Advice files (implementation guide 005010X221A1): the remittance
// advice a provider's practice-management system loads to post what a payer
// paid on each claim and why the rest was not paid.
//
// Its one job is the 835: Generate turns a run's remittance file into one
// interchange per provider payee and plan currency, Encode writes one
// interchange from lines in memory, Check and Inspect read any 835 back and
// report structure and balancing errors. It imports claim and readers (and
// the standard library and YAML) only; the run pipeline calls it, never the
// reverse.
//
// # What an 835 holds
//
// An 835 file is an interchange: an ISA header (fixed width, 106
// characters, which also declares the delimiters: element '*', component
// ':', repetition '^', segment terminator '~' in ours) and an IEA trailer
// around functional groups (GS/GE, functional id HP), each around
// transaction sets (ST/SE). Every trailer counts what it closes and repeats
// its header's control number. One 835 transaction set is one payment (or
// one remittance without payment) from one payer to one payee:
//
//	BPR   the payment: handling code, total actual provider payment, method
//	      (check, ACH, ...), bank details for an EFT, date
//	TRN   the reassociation trace number: the check or EFT trace number
//	      that ties the remittance to the money, and the payer's id
//	CUR   the currency, when it is not US dollars
//	1000A the payer: N1*PR name, N3/N4 address, REF*2U id, PER*BL contact
//	1000B the payee: N1*PE name and NPI or tax id, REF*PQ payer-assigned id
//	LX    a header number opening the claims (loop 2000)
//	CLP   one claim (loop 2100): the provider's claim id (patient control
//	      number), status, total charge, amount paid, patient
//	      responsibility, claim filing indicator, payer's claim id
//	NM1*QC the patient
//	SVC   one service line (loop 2110): procedure code, charge, paid
//	DTM*472 the service date
//	CAS   the adjustments: group code (PR patient responsibility, CO
//	      contractual obligation, OA other, PI payer initiated) and up to
//	      six reason code/amount/quantity triplets; reason codes are CARCs
//	      (1 deductible, 2 coinsurance, 119 benefit maximum reached, 18
//	      duplicate, ...)
//	PLB   provider-level adjustments outside any claim (interest,
//	      recoupments)
//
// The 835 balances at three levels, and receivers reject files that do not:
// per service line, charge - paid = its CAS amounts; per claim, charge -
// paid = the CAS amounts of the claim and its lines; per transaction set,
// BPR02 = the CLP04 payments - the PLB amounts. The patient responsibility
// (CLP05) is the claim's PR adjustments.
//
// # Our mapping
//
// A run's remittance has one row per adjudicated line. The rows of
// payee_type provider with one payee_id and plan_currency make one file;
// member reimbursements are not 835s. In a file:
//
//	ISA06/GS02    config interchange.sender_id (group.sender_code)
//	ISA08/GS03    config interchange.receiver_id, else the payee's
//	              interchange_id, else its provider_id (hashed when longer
//	              than 15 characters)
//	ISA09/GS04    the run's as-of date, time 0000 (never the clock)
//	ISA13/GS06    9 digits of SHA-256(run id, payee, currency); ST02 0001
//	ISA15         config interchange.usage (T in the built-in defaults)
//	BPR02         the sum of the file's plan_paid
//	BPR01/BPR04   config payment handling (I) and method (CHK, ACH, BOP,
//	              FWT); a zero payment is H with NON (X12 RFI 2228), not I
//	BPR06-15      config payment.bank and the payee's bank, for an EFT
//	BPR16, DTM*405 the run's as-of date
//	TRN02         15 digits of SHA-256(run id, payee, currency): the number
//	              the payment system must use as check or EFT trace number
//	TRN03, BPR10  "1" and config payer.tin
//	CUR02         plan_currency, when it is not USD
//	N1*PR, REF*2U config payer.name, payer.id
//	N1*PE         config payees.<id>.name (else the provider_id); NPI
//	              (XX), else TIN (FI), else the provider_id with the
//	              unknown_payee_qualifier (FI by default)
//	REF*PQ        payee_id (the provider_id), in every file
//	CLP01, CLP07  claim_id (one CLP per claim and member, split every 999
//	              lines, the limit of loop 2110)
//	CLP02         4 (denied) when every line is DENIED, else 1 (processed
//	              as primary; a line paid 0 for the deductible is processed)
//	CLP03, CLP04  the sums of the claim's charge and plan_paid
//	CLP05         the sum of its PR adjustments, left out when 0
//	CLP06         config claim_filing_indicator (15, indemnity insurance)
//	NM1*QC        MI and member_id (no names: the remittance has none)
//	SVC01         HC and procedure_code when it is shaped like a HCPCS/CPT
//	              code (AD for a D-code on a dental line); else the local
//	              code qualifier with procedure_code, or with benefit_code
//	              when there is no procedure code
//	SVC02, SVC03  charge, plan_paid
//	DTM*472       service_date
//	CAS           adjustments: PR-1:375.00 PR-2:165.00 OA-18:90.00 is
//	              CAS*PR*1*375**2*165~ and CAS*OA*18*90~, one CAS per group
//	              in the order written, 6 reasons at most per segment
//	PLB           never, for a run: no claimsbatch payment is negative or
//	              offset (Encode writes them for callers that have some)
//
// Amounts are written as X12 decimals without trailing zeros (1462.50 is
// 1462.5). Every segment ends with '~' and a newline (config line_breaks).
//
// # Where the data does not fit the guide
//
// The TR3 has no qualifier for a payer's own service codes: SVC01-1 allows
// AD, ER, HC, HP, IV, N4, N6, NU, UI and WK (4010's ZZ is gone). We use ER,
// "jurisdiction specific procedure and supply codes", which the guide
// allows for claims not covered by HIPAA, as an international plan's are:
// it passes validators, and the code tells a reader what it is. Partners
// that agreed on ZZ (mutually defined) can say so (local_code_qualifier).
//
// Likewise N103 of the payee takes only FI (tax id), XV (CMS plan id) and
// XX (NPI). A provider the configuration gives neither an NPI nor a tax id
// for is identified by its provider_id under unknown_payee_qualifier, FI by
// default so that validators accept the file; REF*PQ always carries the
// provider_id as the payer's id for the payee. US providers, the ones that
// load 835s, should be configured with their NPI.
//
// The remittance has no names, addresses or bank details: they come from
// the configuration file (LoadConfig), whose built-in default is marked test
// data (ISA15 T).
//
// # Checking
//
// Check reads any 835, ours or not: it takes the delimiters from the ISA
// segment, skips line breaks after segment terminators, reads as it goes and
// reports each problem with the position of the segment (counting the ISA
// as 1) and the claim it is in. See Inspect for the list of checks. Encode
// runs it on every file it writes, so Generate never returns a file that
// Check would reject.
package x12
