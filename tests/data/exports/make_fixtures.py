#!/usr/bin/env python3
"""Write the synthetic platform exports the import tests read. Every value is
made up here; only the layouts follow the platforms' exports (header rows,
quoting, date and number formats, one row per line item…). Run from this folder:

    python3 make_fixtures.py
"""
import csv

SHOPIFY_ORDERS = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References".split(",")


def shopify_orders():
    rows = []

    def order(name, email, status, created, total, refunded="0.00", cancelled="", gateway="Shopify Payments", items=("Tee",), note=""):
        first = dict.fromkeys(SHOPIFY_ORDERS, "")
        first.update({
            "Name": name, "Email": email, "Financial Status": status, "Currency": "USD", "Total": total,
            "Created at": created, "Lineitem quantity": "1", "Lineitem name": items[0], "Lineitem price": total,
            "Cancelled at": cancelled, "Payment Method": gateway, "Refunded Amount": refunded, "Source": "web",
            "Note Attributes": note, "Id": str(5000 + int(name[1:])), "Billing Zip": "'02134",
        })
        rows.append(first)
        for it in items[1:]:
            # line items: the order's own fields are empty after its first row
            rest = dict.fromkeys(SHOPIFY_ORDERS, "")
            rest.update({"Name": name, "Email": email, "Created at": created, "Lineitem quantity": "1", "Lineitem name": it})
            rows.append(rest)

    order("#1001", "ada@example.com", "paid", "2024-03-09 10:00:00 -0500", "100.00", items=("Tee", "Socks"))
    order("#1002", "bob@example.com", "refunded", "2024-03-09 11:00:00 -0500", "50.00", "50.00", cancelled="2024-03-09 12:00:00 -0500")
    # the clocks change on 10 March: the offset changes within the file
    order("#1003", "Ada@Example.com", "partially_refunded", "2024-03-10 03:30:00 -0400", "80.00", "30.00")
    order("#1004", "cy@example.com", "voided", "2024-03-11 09:00:00 -0400", "20.00")
    order("#1005", "cy@example.com", "pending", "2024-03-11 09:30:00 -0400", "20.00")
    order("#1006", "dev@example.com", "paid", "2024-03-12 09:00:00 -0400", "9.00", gateway="(for testing) Bogus Gateway")
    order("#1007", "", "paid", "2024-03-12 10:00:00 -0400", "15.00")
    order("#1008", "cy@example.com", "paid", "2024-04-01 16:20:00 -0400", "250.00",
          items=('Monitor 27" wide', "Cable, HDMI"), note="gift: yes\nwrap: blue")
    with open("shopify_orders.csv", "w", newline="") as f:
        w = csv.DictWriter(f, SHOPIFY_ORDERS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        # a line item whose order's first row is not in the file
        orphan = dict.fromkeys(SHOPIFY_ORDERS, "")
        orphan.update({"Name": "#0999", "Email": "old@example.com", "Created at": "2024-02-01 10:00:00 -0500", "Lineitem name": "Cap"})
        w.writerow(orphan)


def stripe_payments():
    head = "id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,Converted Amount Refunded,Converted Currency,Decline Reason,Description,Fee,Refunded date (UTC),Statement Descriptor,Status,Seller Message,Taxes On Fee,Card ID,Customer ID,Customer Description,Customer Email,Invoice ID,Transfer"
    rows = [
        "ch_1,2024-05-02 08:00:01,8.00,0.00,usd,true,8.00,0.00,usd,,Subscription,0.53,,APP,Paid,Payment complete.,0.00,card_1,cus_A,,a@example.com,in_1,",
        "ch_2,2024-06-02 08:00:01,8.00,0.00,usd,false,8.00,0.00,usd,insufficient_funds,Subscription,0.00,,APP,Failed,Declined,0.00,card_1,cus_A,,a@example.com,in_2,",
        "ch_3,2024-05-03 09:10:00,8.00,8.00,usd,true,8.00,8.00,usd,,Subscription,0.53,2024-05-20 10:00:00,APP,Refunded,Payment complete.,0.00,card_2,cus_B,,b@example.com,in_3,",
        "py_4,2024-05-04 10:00:00,12.00,0.00,usd,true,12.00,0.00,usd,,One-off,0.65,,APP,Paid,Payment complete.,0.00,,,,Guest@Example.com,,",
        "ch_5,2024-05-05 11:00:00,5.00,0.00,usd,true,5.00,0.00,usd,,Donation,0.45,,APP,Paid,Payment complete.,0.00,card_5,,,,,",
        "ch_6,2024-05-06 12:00:00,10.00,0.00,eur,true,10.80,0.00,usd,,Subscription,0.60,,APP,Paid,Payment complete.,0.00,card_6,cus_C,,c@example.com,in_6,",
    ]
    with open("stripe_payments.csv", "w", newline="") as f:
        f.write(head + "\n" + "\n".join(rows) + "\n")


def etsy():
    head = ["Sale Date", "Order ID", "Buyer User ID", "Full Name", "First Name", "Last Name", "Number of Items", "Payment Method", "Date Shipped", "Street 1", "Street 2", "Ship City", "Ship State", "Ship Zipcode", "Ship Country", "Currency", "Order Value", "Coupon Code", "Coupon Details", "Discount Amount", "Shipping Discount", "Shipping", "Sales Tax", "Order Total", "Status", "Card Processing Fees", "Order Net", "Adjusted Order Total", "Adjusted Card Processing Fees", "Adjusted Net Order Amount", "Buyer", "Order Type", "Payment Type", "InPerson Discount", "InPerson Location", "SKU"]

    def row(date, oid, buyer, total, adjusted="0"):
        r = dict.fromkeys(head, "")
        r.update({"Sale Date": date, "Order ID": oid, "Buyer User ID": buyer, "Full Name": "Pat  Doe ", "Currency": "USD",
                  "Order Total": total, "Adjusted Order Total": adjusted, "Order Type": "online", "SKU": "MUG-1"})
        return r

    rows = [row("12/31/2023", "3001", "potter7", "30.00"), row("1/2/2023", "3002", "", "11.00"), row("2/14/2023", "3003", "mugfan", "20.00", "15.00")]
    with open("etsy_sold_orders.tsv", "w", newline="") as f:
        w = csv.DictWriter(f, head, delimiter="\t", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def paypal():
    head = ["Date", "Time", "TimeZone", "Name", "Type", "Status", "Currency", "Gross", "Fee", "Net", "From Email Address", "To Email Address", "Transaction ID", "Item Title", "Balance Impact"]
    me = "shop@example.com"
    rows = [
        ["03/14/2022", "09:00:00", "PDT", "Ann Buyer", "Website Payment", "Completed", "USD", "1,234.56", "-40.00", "1,194.56", "ann@example.com", me, "1AA", "Table", "Credit"],
        ["03/14/2022", "09:00:00", "PDT", "Ann Buyer", "General Authorization", "Pending", "USD", "-1,234.56", "0.00", "-1,234.56", me, "ann@example.com", "1AB", "", "Memo"],
        ["03/15/2022", "10:00:00", "PDT", "", "Account Hold for Open Authorization", "Pending", "USD", "-20.00", "0.00", "-20.00", me, "", "1AC", "", "Debit"],
        ["03/20/2022", "11:00:00", "PDT", "Ann Buyer", "Payment Refund", "Completed", "USD", "-34.56", "1.00", "-33.56", me, "ann@example.com", "1AD", "Table", "Debit"],
        ["04/01/2022", "12:00:00", "PDT", "Ben Buyer", "Express Checkout Payment", "Completed", "USD", "20.00", "-0.90", "19.10", "ben@example.com", me, "1AE", "Lamp", "Credit"],
        ["04/02/2022", "13:00:00", "PDT", "Grocer", "General PayPal Debit Card Transaction", "Completed", "USD", "-72.78", "0.00", "-72.78", me, "", "1AF", "", "Debit"],
    ]
    with open("paypal_activity.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(head)
        w.writerows(rows)


def uci():
    # re-saved day first, as one public copy of the data set is: every date is
    # 1/12/2010, so only the data set's span tells day from month
    rows = [
        ["536365", "85123A", "HANGING HEART HOLDER", "6", "1/12/2010 8:26", "2.55", "17850", "United Kingdom"],
        ["536365", "71053", "METAL LANTERN", "6", "1/12/2010 8:26", "3.39", "17850", "United Kingdom"],
        ["536366", "22633", "HAND WARMER", "6", "1/12/2010 8:28", "1.85", "", "United Kingdom"],
        ["536367", "84879", "ASSORTED BIRD", "32", "1/12/2010 8:34", "1.69", "13047", "United Kingdom"],
        ["536367", "22745", "POPPY'S PLAYHOUSE", "6", "1/12/2010 8:34", "2.10", "13047", "United Kingdom"],
        ["C536379", "D", "Discount", "-1", "1/12/2010 9:41", "27.50", "14527", "United Kingdom"],
    ]
    with open("online_retail.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"])
        w.writerows(rows)


def square():
    head = ["Date", "Time", "Time Zone", "Gross Sales", "Discounts", "Service Charges", "Net Sales", "Gift Card Sales", "Tax", "Tip", "Partial Refunds", "Total Collected", "Source", "Card", "Transaction ID", "Payment ID", "Device Name", "Staff Name", "Description", "Event Type", "Location", "Customer ID", "Customer Name", "Customer Reference ID"]
    rows = [
        ["2024-07-01", "09:15:00", "Pacific Time (US & Canada)", "$10.00", "$0.00", "$0.00", "$10.00", "$0.00", "$0.90", "$1.00", "$0.00", "$11.90", "Point of Sale", "$11.90", "T1", "P1", "iPad", "Sam", "Latte", "Payment", "Main St", "CUST1", "Kim Lee", ""],
        ["2024-07-01", "09:20:00", "Pacific Time (US & Canada)", "$4.00", "$0.00", "$0.00", "$4.00", "$0.00", "$0.36", "$0.00", "$0.00", "$4.36", "Point of Sale", "$0.00", "T2", "P2", "iPad", "Sam", "Tea", "Payment", "Main St", "", "", ""],
        ["2024-07-02", "10:00:00", "Pacific Time (US & Canada)", "-$10.00", "$0.00", "$0.00", "-$10.00", "$0.00", "-$0.90", "$0.00", "$0.00", "-$10.90", "Point of Sale", "-$10.90", "T3", "P3", "iPad", "Sam", "Latte", "Refund", "Main St", "CUST1", "Kim Lee", ""],
        ["2024-07-03", "10:00:00", "Pacific Time (US & Canada)", "$1,200.00", "$0.00", "$0.00", "$1,200.00", "$0.00", "$0.00", "$0.00", "$0.00", "$1,200.00", "Invoices", "$1,200.00", "T4", "P4", "", "", "Catering", "Payment", "Main St", "CUST2", "Acme Co", "A-7"],
    ]
    with open("square_transactions.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)


def woocommerce():
    head = ["order_id", "order_number", "order_date", "status", "shipping_total", "tax_total", "order_total", "refunded_total", "order_currency", "payment_method", "customer_id", "billing_first_name", "billing_last_name", "billing_email", "item_name"]
    rows = [
        ["101", "101", "2024-02-01 10:00:00", "wc-completed", "5.00", "2.00", "47.00", "0.00", "EUR", "stripe", "5", "Eva", "Ng", "eva@example.com", "Kettle"],
        ["102", "102", "2024-02-03 11:00:00", "processing", "5.00", "0.00", "25.50", "0.00", "EUR", "paypal", "0", "Guest", "One", "guest@example.com", "Cups"],
        ["103", "103", "2024-02-04 12:00:00", "cancelled", "0.00", "0.00", "12.00", "0.00", "EUR", "bacs", "5", "Eva", "Ng", "eva@example.com", "Spoon"],
        ["104", "104", "2024-02-05 13:00:00", "refunded", "0.00", "0.00", "30.00", "30.00", "EUR", "stripe", "5", "Eva", "Ng", "eva@example.com", "Tray"],
        ["105", "105", "2024-02-06 14:00:00", "failed", "0.00", "0.00", "9.00", "0.00", "EUR", "stripe", "7", "Al", "Bo", "al@example.com", "Mug"],
    ]
    with open("woocommerce_orders.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)


def shopify_customers():
    head = "First Name,Last Name,Email,Accepts Email Marketing,Company,Address1,Address2,City,Province,Province Code,Country,Country Code,Zip,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt".split(",")
    rows = [
        ["Ada", "L", "ada@example.com", "yes", "", "", "", "Boston", "", "MA", "", "US", "'02134", "'+1 617 555 0101", "no", "150.00", "2", "vip", "", "no"],
        ["Cy", "D", "CY@example.com", "no", "", "", "", "", "", "", "", "", "", "", "yes", "250.00", "1", "", "prefers phone", "no"],
        ["No", "Mail", "", "no", "", "", "", "", "", "", "", "", "", "", "no", "0.00", "0", "", "", "no"],
    ]
    with open("shopify_customers.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)


def stripe_subscriptions():
    head = ["id", "Customer ID", "Customer Description", "Customer Email", "Plan", "Quantity", "Currency", "Interval", "Amount", "Status", "Created (UTC)", "Start Date (UTC)", "Current Period Start (UTC)", "Current Period End (UTC)", "Canceled At (UTC)", "Ended At (UTC)", "Cancellation Feedback", "Cancellation Comment", "Customer Name"]
    rows = [
        ["sub_1", "cus_A", "", "a@example.com", "basic", "1", "usd", "month", "8", "canceled", "1/15/24 10:00", "1/15/24 10:00", "5/15/24 10:00", "6/15/24 10:00", "5/20/24 09:00", "6/15/24 10:00", "too_expensive", "Found it cheaper elsewhere", "Ann A"],
        ["sub_2", "cus_B", "", "b@example.com", "basic", "1", "usd", "month", "8", "active", "2/1/24 10:00", "2/1/24 10:00", "6/1/24 10:00", "7/1/24 10:00", "", "", "", "", "Ben B"],
        ["sub_3", "cus_C", "", "c@example.com", "basic", "1", "usd", "month", "8", "canceled", "1/3/24 10:00", "1/3/24 10:00", "2/3/24 10:00", "3/3/24 10:00", "2/20/24 10:00", "3/3/24 10:00", "missing_features", "", "Cal C"],
        ["sub_4", "cus_C", "", "c@example.com", "pro", "1", "usd", "month", "20", "canceled", "3/10/24 10:00", "3/10/24 10:00", "4/10/24 10:00", "5/10/24 10:00", "4/25/24 10:00", "5/10/24 10:00", "", "", "Cal C"],
    ]
    with open("stripe_subscriptions.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)


if __name__ == "__main__":
    shopify_orders()
    stripe_payments()
    etsy()
    paypal()
    uci()
    square()
    woocommerce()
    shopify_customers()
    stripe_subscriptions()
