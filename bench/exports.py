#!/usr/bin/env python3
"""Import each real platform export under ../shared/data/exports (when it is
there) into a fresh SQLite store with no options, and print, per file: what
winback recognised it as, its lines by outcome, the customers and net revenue
stored, and the customers and net revenue the file says, computed here from the
file alone with the platform's rules (pandas-free, csv module only).

    python3 bench/exports.py [EXPORTS_DIR]

The samples are real shops' data with unclear licences: they are read from
where they lie, never copied into the repository.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINBACK = os.path.join(ROOT, "target", "release", "winback")
EXPORTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "exports")


def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        head = f.readline()
    delim = max([",", ";", "\t"], key=head.count)
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f, delimiter=delim))


def num(s):
    s = (s or "").strip().replace(",", "")
    return float(s) if s else 0.0


def shopify(path):
    cust, net = set(), 0.0
    for r in rows(path):
        fs = r["Financial Status"]
        if fs not in ("paid", "partially_paid", "partially_refunded", "refunded"):
            continue
        if "Bogus Gateway" in r.get("Payment Method", "") or not r["Email"].strip():
            continue
        t, rf = num(r["Total"]), num(r["Refunded Amount"])
        if r["Cancelled at"] and t - rf <= 0.005:
            continue
        cust.add(r["Email"].strip().lower())
        net += t - rf
    return len(cust), net


def stripe(path):
    cust, net = set(), 0.0
    for r in rows(path):
        st = r["Status"].lower()
        if st == "failed" or r.get("Captured", "").lower() == "false" or r.get("Mode", "").lower() == "test":
            continue
        who = r.get("Customer ID", "").strip() or r.get("Customer Email", "").strip().lower()
        if not who:
            continue
        conv = "Converted Amount" in r
        amt = num(r["Converted Amount"] if conv else r["Amount"])
        ref = num(r.get("Converted Amount Refunded" if conv else "Amount Refunded"))
        cust.add(who)
        net += amt - ref
    return len(cust), net


def etsy(path):
    cust, net = set(), 0.0
    for r in rows(path):
        if not r["Buyer User ID"].strip():
            continue
        t, adj = num(r["Order Total"]), num(r["Adjusted Order Total"])
        cust.add(r["Buyer User ID"].strip())
        net += adj if 0 < adj < t else t
    return len(cust), net


def paypal(path):
    cust, net = set(), 0.0
    sales = Counter(r["Currency"] for r in rows(path) if r["Type"].lower().endswith("payment"))
    main = sales.most_common(1)[0][0] if sales else None
    for r in rows(path):
        k, st, imp = r["Type"].lower(), r["Status"], r["Balance Impact"]
        sale = (k.endswith("payment") or "payment received" in k) and "non reference credit" not in k and st == "Completed" and imp == "Credit"
        refund = "refund" in k and st == "Completed" and imp == "Debit"
        if not (sale or refund) or r["Currency"] != main:
            continue
        who = (r["From Email Address"] if sale else r["To Email Address"]).strip().lower()
        if not who:
            continue
        cust.add(who)
        net += abs(num(r["Gross"])) * (1 if sale else -1)
    return len(cust), net


def uci(path):
    cust, net = set(), 0.0
    for r in rows(path):
        who = (r.get("CustomerID") or r.get("Customer ID") or "").strip().removesuffix(".0")
        inv = r.get("InvoiceNo") or r.get("Invoice")
        if not who or inv.startswith("A"):
            continue
        cust.add(who)
        net += float(r["Quantity"]) * num(r.get("UnitPrice") or r.get("Price"))
    return len(cust), net


def olist(path):
    return len({r["customer_id"] for r in rows(path)}), 0.0


EXPECTED = {
    "shopify/orders_export_activewear_2019-2022.pseudo.csv": shopify,
    "shopify/orders_export_watersports_2024-2026.pseudo.csv": shopify,
    "shopify/orders_export_tiktokshop_2025.pseudo.csv": shopify,
    "shopify/orders_export_devstore_generated.csv": shopify,
    "shopify/orders_export_teststore_bogus-gateway.csv": shopify,
    "stripe/unified_payments_subscriptions-app.pseudo.csv": stripe,
    "stripe/unified_payments_legacy-columns_2023.pseudo.csv": stripe,
    "stripe/unified_payments_all-columns_1row.pseudo.csv": stripe,
    "stripe/payments_custom-columns_semicolon_excel.csv": stripe,
    "stripe/unified_payments_testmode.csv": stripe,
    "etsy/EtsySoldOrders2022.pseudo.csv": etsy,
    "etsy/EtsySoldOrders2023_tab-separated.pseudo.csv": etsy,
    "paypal/Download_business_2022.pseudo.csv": paypal,
    "paypal/Download_header-only.csv": paypal,
    "uci_online_retail/OnlineRetail_first999rows_MDY.csv": uci,
    "uci_online_retail/OnlineRetail_first149rows_DMY.csv": uci,
    "uci_online_retail/online_retail_II_first99rows.csv": uci,
    "olist/olist_orders_dataset_4998rows_excel-resaved.csv": olist,
}
CUSTOMER_FILES = [
    "shopify/customers_export_activewear_legacy-format.pseudo.csv",
    "shopify/customers_export_b2b_new-format.pseudo.csv",
    "shopify/customers_export_teststore_excel-mangled.csv",
    "stripe/unified_customers_legacy-columns_2023.pseudo.csv",
    "stripe/subscriptions_dkk_excel-resaved.pseudo.csv",
]


def winback(db, *args):
    p = subprocess.run([WINBACK, "--db", db, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    if not os.path.isdir(EXPORTS):
        sys.exit(f"no exports folder at {EXPORTS}")
    print("| file | recognised as | lines | imported | part of an order | skipped | duplicates | rejected | adds up | customers | net revenue | expected customers | expected net | match |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |")
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, rule in EXPECTED.items():
            path = os.path.join(EXPORTS, name)
            if not os.path.exists(path):
                continue
            db = os.path.join(tmp, name.replace("/", "_") + ".db")
            rc, out, err = winback(db, "import", "transactions", path, "-f", "json")
            if rc != 0:
                print(f"| {name} | error | | | | | | | | | | | | {err.strip().splitlines()[-1]} |")
                bad += 1
                continue
            v = json.loads(out)
            rec = (v.get("recognised") or {}).get("name", "generic columns")
            parts = [v["imported"], v.get("part_of_an_order", 0), v.get("skipped", 0), v["duplicates"], v["rejected"]]
            adds = sum(parts) == v["rows"]
            rc, out, err = winback(db, "customers", "--status", "all", "-f", "json")
            listed = json.loads(out) if rc == 0 and out.strip() else []
            n, net = len(listed), sum(c.get("revenue") or 0 for c in listed)
            en, enet = rule(path)
            ok = adds and n == en and abs(net - enet) < 0.01
            bad += not ok
            print(f"| {name} | {rec} | {v['rows']} | " + " | ".join(map(str, parts))
                  + f" | {'yes' if adds else 'NO'} | {n} | {net:.2f} | {en} | {enet:.2f} | {'yes' if ok else 'NO'} |")
        print()
        print("| customers file | recognised as | lines | imported | skipped | rejected | adds up |")
        print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
        for name in CUSTOMER_FILES:
            path = os.path.join(EXPORTS, name)
            if not os.path.exists(path):
                continue
            db = os.path.join(tmp, name.replace("/", "_") + ".db")
            rc, out, err = winback(db, "import", "customers", path, "-f", "json")
            if rc != 0:
                print(f"| {name} | error: {err.strip().splitlines()[-1]} | | | | | |")
                bad += 1
                continue
            v = json.loads(out)
            rec = (v.get("recognised") or {}).get("name", "generic columns")
            adds = v["imported"] + v["skipped"] + v["duplicates"] + v["rejected"] == v["rows"]
            bad += not adds
            print(f"| {name} | {rec} | {v['rows']} | {v['imported']} | {v['skipped']} | {v['rejected']} | {'yes' if adds else 'NO'} |")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
