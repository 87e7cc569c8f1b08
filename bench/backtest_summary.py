"""Print the at-risk lists' figures from `winback backtest -f json` (stdin)."""
import json
import sys

b = json.load(sys.stdin)
r = b["at_risk"]
lost = b["lost"]
print(f"   base {r['base']} active, {r['left']} left (base rate {r['base_rate']:.3f}); "
      f"lost list {lost['listed']}, {lost['came_back']} came back on their own")
for name in ("rule", "warning"):
    s = r[name]
    c = s["at_recall"]
    if c:
        cut = f"at recall >= 0.3: first {c['listed']}, precision {c['precision']:.3f}, lift {c['lift']:.2f}"
    else:
        cut = "never reaches recall 0.3"
    print(f"   {name:8} listed {s['listed']:5}  precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
          f"lift {s['lift']:.2f};  {cut}")
p = b["purchases"]
print(f"   model {p['model']}: {p['predicted']:.0f} repeat purchases expected, {p['actual']:.0f} made, "
      f"error per customer {p['mae']:.2f}")
