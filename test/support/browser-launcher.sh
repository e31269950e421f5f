#!/bin/sh
# MISTRIVE_BROWSER for the tests: drives headless Chromium through sign-in and consent.
cd "$(dirname "$0")/../.." && exec node --import tsx test/support/browser-launcher.ts "$@"
