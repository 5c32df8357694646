#!/usr/bin/env node
// placeholder until schemas land
