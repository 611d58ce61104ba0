#!/usr/bin/env node
'use strict';
// The `deferbase` command; the code lives in dist/lib/cli (run `npm run build` first).
require('../dist/lib/cli/main.js').runFromProcess();
