#!/bin/sh
# Re-vendor the demo page's browser libraries from web/node_modules (npm ci first).
# The versions are the exact devDependencies pinned in package.json and package-lock.json;
# the page loads these copies, so running it needs no build step and no CDN.
set -eu
cd "$(dirname "$0")/.."
nm=node_modules
out=vendor
hl="$nm/@highlightjs/cdn-assets"
cp "$nm/marked/lib/marked.esm.js" "$out/marked.esm.js"
cp "$nm/marked/LICENSE" "$out/LICENSE-marked"
cp "$nm/dompurify/dist/purify.min.js" "$out/purify.min.js"
cp "$nm/dompurify/LICENSE" "$out/LICENSE-dompurify"
cp "$hl/es/core.min.js" "$out/hljs-core.min.js"
cp "$hl/LICENSE" "$out/LICENSE-highlightjs"
for lang in bash javascript json python typescript xml yaml; do
  cp "$hl/es/languages/$lang.min.js" "$out/hljs-$lang.min.js"
done
node -e '
const lock = require("./package-lock.json").packages;
for (const name of ["marked", "dompurify", "@highlightjs/cdn-assets"]) {
  console.log(`${name} ${lock["node_modules/" + name].version}`);
}' > "$out/VERSIONS.txt"
