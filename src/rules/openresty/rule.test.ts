import rule from './rule.ts';
import { testRule } from '../_lib/tester.ts';

testRule(rule, import.meta.dirname);
