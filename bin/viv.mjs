#!/usr/bin/env node
// The `viv` command for callers that name this file: the launcher is bin/viv.cjs (see there).
import viv from './viv.cjs';

viv.run();
