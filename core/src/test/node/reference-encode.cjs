// Reference encoder for the tokenizer tests: encodes text files with @lenml/tokenizers (a dependency-free port
// of transformers.js's tokenizers) and writes one token id per line. Special tokens (BOS/EOS) are NOT added, to
// match io.quantmesh.core.tokenizer.Tokenizer#encode.
//
// usage: node reference-encode.cjs <npm-prefix> <tokenizer.json> <tokenizer_config.json> <input> <output> [...]
//   npm-prefix: the folder whose node_modules/ holds @lenml/tokenizers (the test installs it there)
'use strict';
const fs = require('fs');
const path = require('path');

const [prefix, tokenizerJson, tokenizerConfig, ...files] = process.argv.slice(2);
if (!prefix || !tokenizerJson || !tokenizerConfig || files.length === 0 || files.length % 2 !== 0) {
  console.error('usage: node reference-encode.cjs <npm-prefix> <tokenizer.json> <tokenizer_config.json> <in> <out> ...');
  process.exit(2);
}
const { TokenizerLoader } = require(path.join(prefix, 'node_modules', '@lenml', 'tokenizers'));
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(tokenizerJson, 'utf8')),
  tokenizerConfig: JSON.parse(fs.readFileSync(tokenizerConfig, 'utf8')),
});

for (let i = 0; i < files.length; i += 2) {
  const text = fs.readFileSync(files[i], 'utf8');
  const start = process.hrtime.bigint();
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fs.writeFileSync(files[i + 1], ids.join('\n') + (ids.length ? '\n' : ''));
  console.log(`${path.basename(files[i])}: ${ids.length} tokens in ${ms.toFixed(0)} ms`);
}
