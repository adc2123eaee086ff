#!/usr/bin/env node
// Operator entry point under the name the operator page's
// prerequisites use: the same command as deploy/deploy-notify.js.
import './deploy/deploy-notify.js';
