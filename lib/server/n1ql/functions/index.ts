// The scalar function library: each module registers its family into the registry's table.
import './strings';
import './tokens';
import './numbers';
import './arrays';
import './objects';
import './types';
import './conditionals';
import './operators';
import './dates';
import './misc';
import './finderr';
import './curl';

export { lookupFunction, functionNames, type FunctionContext, type FunctionDef } from './registry';
export { distinctValues, starObject } from './arrays';
