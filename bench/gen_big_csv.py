"""Write a large ticket CSV for the profiling benchmark (dev-only).
Usage: python3 bench/gen_big_csv.py OUT.csv SIZE_MB
Rows: id, created, subject, body (quoted, sometimes multi-line, commas), category."""
import random, sys

out, size_mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
words = ("app crash login error page blank update sync phone email password reset dark mode "
         "export data file slow button settings account support feature request please would "
         "like how do i the when after with not working again every time").split()
cats = ["bug", "Bug", "feature_request", "Feature request", "general_inquiry", "question"]
target = size_mb * 1024 * 1024
written = 0
with open(out, "w", newline="") as f:
    f.write("id,created,subject,body,category\n")
    i = 0
    while written < target:
        body = " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 120)))
        if i % 7 == 0:
            body = body.replace(" when ", ", when\n", 1)
        line = f'T-{i},2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{" ".join(rnd.choice(words) for _ in range(5))},"{body}",{cats[i % 6]}\n'
        f.write(line)
        written += len(line)
        i += 1
print(f"wrote {out}: {i} rows, {written / 1e6:.0f} MB")
