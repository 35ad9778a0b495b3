import defaultRule from './rule.ts';
import { testRule } from '../_lib/tester.ts';

testRule(defaultRule, import.meta.dirname);
