// Type checking and conversion functions.
import { isObject, rank, Rank, truthy, typeName, type Value } from '../value';
import { fromInteger, isNumeric } from '../int64';
import { formatFloat } from '../json';
import { family, def, isArr, isNum, isStr } from './registry';

family({ floatArgs: false });

def('type,typename,type_name', 1, 1, ([v]) => typeName(v), false);
def('isarray,is_array', 1, 1, ([v]) => isArr(v));
def('isatom,is_atom', 1, 1, ([v]) => rank(v) >= Rank.Boolean && rank(v) <= Rank.String);
def('isboolean,is_boolean,isbool,is_bool', 1, 1, ([v]) => typeof v === 'boolean');
def('isnumber,is_number,isnum,is_num', 1, 1, ([v]) => isNumeric(v));
def('isobject,is_object,isobj,is_obj', 1, 1, ([v]) => isObject(v));
def('isstring,is_string,isstr,is_str', 1, 1, ([v]) => isStr(v));
// Documents read by N1QL here are JSON values; binary values never reach an expression.
def('isbinary,is_binary,isbin,is_bin', 1, 1, () => false);

def('toarray,to_array', 1, 1, ([v]) => (isArr(v) ? v : [v]));
function toAtom(v: Value): Value {
  if (isObject(v)) {
    const k = Object.keys(v);
    return k.length === 1 ? toAtom(v[k[0]]) : null;
  }
  if (isArr(v)) return v.length === 1 ? toAtom(v[0]) : null;
  return v;
}
def('toatom,to_atom', 1, 1, ([v]) => toAtom(v));
def('toboolean,to_boolean,tobool,to_bool', 1, 1, ([v]) => (isStr(v) ? v.length > 0 && v !== 'false' : isNum(v) ? v !== 0 && !Number.isNaN(v) : truthy(v)));
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
def('tonumber,to_number,tonum,to_num', 1, 1, ([v]) => {
  if (isNumeric(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isStr(v)) {
    const t = v.trim();
    if (t === 'NaN') return NaN;
    if (t === '+Infinity' || t === 'Infinity' || t === '-Infinity') return t[0] === '-' ? -Infinity : Infinity;
    // An integer keeps all its digits while it fits int64, as the server parses it.
    if (INTEGER.test(t)) return fromInteger(t[0] === '+' ? t.slice(1) : t);
    return NUMBER.test(t) ? Number(t) : null;
  }
  return null;
});
def('toobject,to_object,toobj,to_obj', 1, 1, ([v]) => (isObject(v) ? v : {}));
def('tostring,to_string,tostr,to_str', 1, 1, ([v]) => {
  if (isStr(v)) return v;
  if (typeof v === 'bigint') return v.toString();
  if (isNum(v)) return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Infinity' : v === -Infinity ? '-Infinity' : formatFloat(v);
  if (typeof v === 'boolean') return String(v);
  return null;
});
