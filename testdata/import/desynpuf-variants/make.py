# Writes desynpuf-variants/in (README one level up): python3 make.py
import csv, gzip, io, os, sys
src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cms-desynpuf", "in")
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "in")
os.makedirs(out, exist_ok=True)
def header(name):
    with open(os.path.join(src, name)) as f:
        return next(csv.reader(f))
def write(name, hdr, rows, gz=False):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    buf.write(",".join('"%s"' % h for h in hdr) + "\n")
    for r in rows:
        w.writerow([r.get(h, "") for h in hdr])
    data = buf.getvalue().encode()
    if gz:
        with open(os.path.join(out, name), "wb") as f:
            f.write(gzip.compress(data, mtime=0))
    else:
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
bh = header("DE1_0_2008_Beneficiary_Summary_File_Sample_0.csv")
def bene(i, birth, death, hi, smi, hmo, plan):
    return {"DESYNPUF_ID": i, "BENE_BIRTH_DT": birth, "BENE_DEATH_DT": death, "BENE_SEX_IDENT_CD": "1", "BENE_RACE_CD": "1", "BENE_ESRD_IND": "0", "SP_STATE_CODE": "5", "BENE_COUNTY_CD": "200",
            "BENE_HI_CVRAGE_TOT_MONS": hi, "BENE_SMI_CVRAGE_TOT_MONS": smi, "BENE_HMO_CVRAGE_TOT_MONS": hmo, "PLAN_CVRG_MOS_NUM": plan}
# B1 full 2008-2009, dies 15 April 2010 (4 months); B2 in 2008 and 2010, not in the 2009 file;
# B3 0 months in 2009; B4 HMO (Part C) months only
write("DE1_0_2008_Beneficiary_Summary_File_Sample_7.csv", bh, [bene("B1", "19300105", "", "12", "12", "0", "12"), bene("B2", "19410220", "", "12", "12", "0", "0"), bene("B3", "19351111", "", "12", "12", "0", "12"), bene("B4", "19420707", "", "0", "0", "12", "0"), bene("B5", "19280303", "", "12", "12", "0", "12")])
write("DE1_0_2009_Beneficiary_Summary_File_Sample_7.csv", bh, [bene("B1", "19300105", "", "12", "12", "0", "12"), bene("B3", "19351111", "", "0", "0", "0", "0"), bene("B4", "19420707", "", "0", "0", "12", "0"), bene("B5", "19280303", "20090610", "6", "6", "0", "6")])
write("DE1_0_2010_Beneficiary_Summary_File_Sample_7.csv", bh, [bene("B1", "19300105", "20100415", "4", "4", "0", "4"), bene("B2", "19410220", "", "12", "12", "0", "0"), bene("B3", "19351111", "", "12", "12", "0", "12"), bene("B4", "19420707", "", "0", "0", "12", "0"), bene("B5", "19280303", "20090610", "12", "12", "0", "12")])
ch = header("DE1_0_2008_to_2010_Carrier_Claims_Sample_0A.csv")
def carrier(clm, who, frm, thru, dx1, slots):
    r = {"DESYNPUF_ID": who, "CLM_ID": clm, "CLM_FROM_DT": frm, "CLM_THRU_DT": thru, "ICD9_DGNS_CD_1": dx1}
    for n in range(1, 14):
        for p in ("LINE_NCH_PMT_AMT_", "LINE_BENE_PTB_DDCTBL_AMT_", "LINE_BENE_PRMRY_PYR_PD_AMT_", "LINE_COINSRNC_AMT_", "LINE_ALOWD_CHRG_AMT_"):
            r[p + str(n)] = "0"
    for n, (hcpcs, amt, dx, npi) in enumerate(slots, 1):
        r["HCPCS_CD_%d" % n] = hcpcs
        r["LINE_ALOWD_CHRG_AMT_%d" % n] = amt
        r["LINE_NCH_PMT_AMT_%d" % n] = amt
        r["LINE_ICD9_DGNS_CD_%d" % n] = dx
        r["PRF_PHYSN_NPI_%d" % n] = npi
        r["TAX_NUM_%d" % n] = "TAX%d" % n if npi == "" else ""
        r["LINE_PRCSG_IND_CD_%d" % n] = "A"
    return r
write("DE1_0_2008_to_2010_Carrier_Claims_Sample_7A.csv", ch, [
    # decimals, amount without HCPCS (tax number, no NPI), 0.00 with a HCPCS, V/E/3/4/5-digit ICD-9
    carrier("K1", "B1", "20080310", "20080310", "4019", [("99213", "60.50", "V5869", "N1"), ("", "25", "486", ""), ("G0008", "0.00", "E8809", "N1"), ("82947", "7.25", "25000", "N1")]),
    # all 13 slots empty
    carrier("K2", "B1", "20080311", "20080311", "4019", []),
    # a beneficiary in no summary file
    carrier("K3", "B9", "20090101", "20090101", "V700", [("99214", "80", "", "N2")]),
    # B2 in 2009: in no 2009 summary (no cover then)
    carrier("K4", "B2", "20090615", "20090615", "4011", [("99213", "55", "", "N3")]),
    # empty CLM_THRU_DT
    carrier("K5", "B3", "20100102", "", "7242", [("97110", "30", "", "N4"), ("97110", "30", "", "N4")]),
])
write("DE1_0_2008_to_2010_Carrier_Claims_Sample_7B.csv.gz", ch, [
    # after B1's death
    carrier("K6", "B1", "20100601", "20100601", "4019", [("99213", "60", "", "N1")]),
    # B3 in 2009, 0 months covered
    carrier("K7", "B3", "20090909", "20090909", "4019", [("99213", "60", "", "N1")]),
    # B4, HMO months only
    carrier("K8", "B4", "20090303", "20090303", "V0481", [("90658", "25", "", "N5")]),
    # B5 died 10 June 2009, yet the 2010 summary still counts 12 months
    carrier("K9", "B5", "20090601", "20090601", "4019", [("99213", "60", "", "N1")]),
    carrier("K10", "B5", "20100301", "20100301", "4019", [("99213", "60", "", "N1")]),
], gz=True)
ih = header("DE1_0_2008_to_2010_Inpatient_Claims_Sample_0.csv")
def inp(clm, seg, who, frm, thru, pmt, ded, drg, dx1, prc1):
    return {"DESYNPUF_ID": who, "CLM_ID": clm, "SEGMENT": seg, "CLM_FROM_DT": frm, "CLM_THRU_DT": thru, "PRVDR_NUM": "23009X", "CLM_PMT_AMT": pmt, "NCH_PRMRY_PYR_CLM_PD_AMT": "0.00",
            "CLM_ADMSN_DT": frm, "ADMTNG_ICD9_DGNS_CD": "78650", "CLM_PASS_THRU_PER_DIEM_AMT": "0", "NCH_BENE_IP_DDCTBL_AMT": ded, "NCH_BENE_PTA_COINSRNC_LBLTY_AM": "0", "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM": "0",
            "CLM_UTLZTN_DAY_CNT": "", "NCH_BENE_DSCHRG_DT": thru, "CLM_DRG_CD": drg, "ICD9_DGNS_CD_1": dx1, "ICD9_PRCDR_CD_1": prc1}
write("DE1_0_2008_to_2010_Inpatient_Claims_Sample_7.csv", ih, [
    inp("I1", "1", "B1", "20080501", "20080505", "8000.50", "1024.00", "194", "486", "9904"),
    inp("I1", "2", "B1", "20080505", "20080508", "2000.00", "0.00", "194", "4280", ""),
    # empty CLM_THRU_DT, no DRG, E-code diagnosis
    inp("I2", "1", "B3", "20100701", "", "5000", "1100", "", "E8889", ""),
    # psychiatric DRG
    inp("I3", "1", "B2", "20080901", "20080915", "12000", "1024", "885", "29590", "9426"),
])
oh = header("DE1_0_2008_to_2010_Outpatient_Claims_Sample_0.csv")
def outp(clm, seg, who, frm, pmt, hcpcs_at, hcpcs, dx1):
    r = {"DESYNPUF_ID": who, "CLM_ID": clm, "SEGMENT": seg, "CLM_FROM_DT": frm, "CLM_THRU_DT": frm, "PRVDR_NUM": "2300XX", "CLM_PMT_AMT": pmt, "NCH_PRMRY_PYR_CLM_PD_AMT": "0",
         "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM": "0", "ICD9_DGNS_CD_1": dx1, "NCH_BENE_PTB_DDCTBL_AMT": "0", "NCH_BENE_PTB_COINSRNC_AMT": "10.00"}
    if hcpcs:
        r["HCPCS_CD_%d" % hcpcs_at] = hcpcs
    return r
write("DE1_0_2008_to_2010_Outpatient_Claims_Sample_7.csv", oh, [
    outp("O1", "1", "B1", "20080601", "50.00", 3, "71020", "V7612"),
    outp("O1", "2", "B1", "20080601", "20.00", 1, "36415", "V7612"),
    outp("O2", "1", "B4", "20090707", "0.00", 1, "", ""),
])
dh = header("DE1_0_2008_to_2010_Prescription_Drug_Events_Sample_0.csv")
write("DE1_0_2008_to_2010_Prescription_Drug_Events_Sample_7.csv", dh, [
    {"DESYNPUF_ID": "B1", "PDE_ID": "D1", "SRVC_DT": "20090210", "PROD_SRVC_ID": "00093089305", "QTY_DSPNSD_NUM": "30", "DAYS_SUPLY_NUM": "30", "PTNT_PAY_AMT": "2.50", "TOT_RX_CST_AMT": "12.34"},
    {"DESYNPUF_ID": "B9", "PDE_ID": "D2", "SRVC_DT": "20090211", "PROD_SRVC_ID": "00093089305", "QTY_DSPNSD_NUM": "30", "DAYS_SUPLY_NUM": "30", "PTNT_PAY_AMT": "0", "TOT_RX_CST_AMT": "10"},
])
