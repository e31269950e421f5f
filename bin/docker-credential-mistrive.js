#!/usr/bin/env node
// The Docker credential helper: a small entry of its own, so that `docker push` and `pull` never load the CLI.
import '../dist/src/credential-helper/main.js';
