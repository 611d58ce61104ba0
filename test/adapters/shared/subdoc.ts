// Sub-document through each flavour, case for case as the Python SDK 2.5's own tests exercise it
// (tests/cases/subdoc_t.py): lookups that report missing paths, mutations that raise the failing
// spec's error, every spec builder, and the path forms the server understands.
import { expect } from 'chai';
import {
  ArgumentError,
  DocumentNotJsonError,
  ErrorCode,
  FMT_UTF8,
  KeyExistsError,
  NotFoundError,
  SD,
  SubdocCantInsertValueError,
  SubdocEmptyPathError,
  SubdocMultipleErrors,
  SubdocPathExistsError,
  SubdocPathInvalidError,
  SubdocPathMismatchError,
  SubdocPathNotFoundError,
  SubdocResult,
} from '../../../lib/index';
import { expectReject, type SharedContext } from './context';

export function subdocCases(c: SharedContext): void {
  const { k } = c;

  it('lookupIn / retrieveIn: values by index and path, get() as [rc, value], iteration, exists', async function () {
    const h = c.h();
    await h.call('upsert', k('sd'), { path1: 'value1', arr: [1, 2, 3], obj: { a: 1, b: 2 } });
    const r = await h.call('retrieveIn', k('sd'), 'path1');
    expect(r).to.be.instanceOf(SubdocResult);
    expect(r.get(0)).to.deep.equal([0, 'value1']);
    expect(r.get('path1')).to.deep.equal([0, 'value1']);
    expect(r.at(0)).to.equal('value1');
    expect(r.at('path1')).to.equal('value1');
    expect(typeof r.cas).to.equal('bigint');
    expect(r.success).to.equal(true);
    const many = await h.call('lookupIn', k('sd'), SD.get('arr[1]'), SD.exists('obj.a'), SD.getCount('obj'), SD.getCount('arr'));
    expect([...many]).to.deep.equal([2, undefined, 2, 3]);
    expect(many.exists(1)).to.equal(true);
    expect(many.contains('obj.a')).to.equal(true);
    expect(many.commandCount).to.equal(4);
    expect(many.resultCount).to.equal(4);
    // an array of specs and trailing options are accepted too
    const arr = await h.call('lookupIn', k('sd'), [SD.get('path1')], { quiet: false });
    expect(arr.at(0)).to.equal('value1');
  });

  it('a lookup whose path is missing succeeds with rc SubdocMultipleErrors; at() raises, get() does not', async function () {
    const h = c.h();
    await h.call('upsert', k('sd'), { path1: 'value1' });
    const rv = await h.call('retrieveIn', k('sd'), 'path2');
    expect(rv.rc).to.equal(SubdocMultipleErrors.CODE);
    expect(rv.success).to.equal(false);
    expect(rv.accessOk).to.equal(true);
    expect(rv.get(0)[0]).to.equal(SubdocPathNotFoundError.CODE);
    expect(rv.get(0, 'dflt')).to.deep.equal([SubdocPathNotFoundError.CODE, 'dflt']);
    expect(() => rv.at(0)).to.throw(SubdocPathNotFoundError);
    expect(() => rv.at('path2')).to.throw(SubdocPathNotFoundError);
    expect(() => [...rv]).to.throw(SubdocPathNotFoundError);
    const ex = await h.call('lookupIn', k('sd'), SD.exists('p'));
    expect(ex.exists('p')).to.equal(false);
    expect(ex.exists(0)).to.equal(false);
  });

  it('lookup failures other than a missing path raise that path\'s error; a missing document NotFoundError (quiet: a result)', async function () {
    const h = c.h();
    await h.call('upsert', k('sd'), { path1: 'value1' });
    const mismatch = await expectReject(h.call('retrieveIn', k('sd'), 'path1[0]'));
    expect(mismatch).to.be.instanceOf(SubdocPathMismatchError);
    expect(mismatch.objextra).to.equal('path1[0]');
    await h.call('upsert', k('txt'), 'value', { format: FMT_UTF8 });
    expect(await expectReject(h.call('lookupIn', k('txt'), SD.exists('path')))).to.be.instanceOf(DocumentNotJsonError);
    expect(await expectReject(h.call('retrieveIn', k('sd'), ''))).to.be.instanceOf(SubdocEmptyPathError);
    expect(await expectReject(h.call('retrieveIn', k('nope'), 'path'))).to.be.instanceOf(NotFoundError);
    const quiet = await h.call('lookupIn', k('nope'), SD.get('path'), { quiet: true });
    expect(quiet.success).to.equal(false);
    expect(quiet.rc).to.equal(ErrorCode.KEY_ENOENT);
    expect(await expectReject(h.call('lookupIn', k('sd'), SD.upsert('a', 1)))).to.be.instanceOf(ArgumentError);
    expect(await expectReject(h.call('lookupIn', k('sd')))).to.be.instanceOf(ArgumentError);
  });

  it('mutateIn: upsert, createParents, CAS, insert, replace, empty and null values, and the errors Python raises', async function () {
    const h = c.h();
    await h.call('upsert', k('mu'), {});
    await h.call('mutateIn', k('mu'), SD.upsert('newDict', ['hello']));
    expect((await h.call('retrieveIn', k('mu'), 'newDict')).at(0)).to.deep.equal(['hello']);
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('path.with.missing.parents', 'value')))).to.be.instanceOf(SubdocPathNotFoundError);
    await h.call('mutateIn', k('mu'), SD.upsert('new.parent.path', 'value', true));
    const result = await h.call('retrieveIn', k('mu'), 'new.parent');
    expect(result.at(0)).to.deep.equal({ path: 'value' });
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('newDict', null), { cas: result.cas + 1n }))).to.be.instanceOf(KeyExistsError);
    const result2 = await h.call('mutateIn', k('mu'), SD.upsert('newDict', {}), { cas: result.cas });
    expect(result2.cas).to.not.equal(result.cas);
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.insert('newDict', {})))).to.be.instanceOf(SubdocPathExistsError);
    await h.call('mutateIn', k('mu'), SD.insert('anotherDict', {}));
    await h.call('mutateIn', k('mu'), SD.replace('newDict', { Hello: 'World' }));
    expect((await h.call('retrieveIn', k('mu'), 'newDict')).at(0)).to.deep.equal({ Hello: 'World' });
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.replace('nonexist', {})))).to.be.instanceOf(SubdocPathNotFoundError);
    await h.call('mutateIn', k('mu'), SD.upsert('empty', ''), SD.upsert('null', null));
    expect([...(await h.call('retrieveIn', k('mu'), 'empty', 'null'))]).to.deep.equal(['', null]);
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('', {})))).to.be.instanceOf(SubdocEmptyPathError);
    await h.call('mutateIn', k('mu'), SD.upsert('array', [1, 2, 3]));
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('array.newKey', 'newVal')))).to.be.instanceOf(SubdocPathMismatchError);
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('array[0]', 'newVal')))).to.be.instanceOf(SubdocPathInvalidError);
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('array[3].bleh', 'newVal')))).to.be.instanceOf(SubdocPathNotFoundError);
    // all or nothing: the second spec fails, the first is not applied
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.upsert('applied', 1), SD.replace('missing', 2)))).to.be.instanceOf(SubdocPathNotFoundError);
    expect((await h.call('lookupIn', k('mu'), SD.exists('applied'))).exists(0)).to.equal(false);
    expect(await expectReject(h.call('mutateIn', k('mu'), SD.get('a')))).to.be.instanceOf(ArgumentError);
  });

  it('array specs: append / prepend several values, insert at an index, addUnique of primitives only', async function () {
    const h = c.h();
    await h.call('upsert', k('ar'), { array: [] });
    await h.call('mutateIn', k('ar'), SD.arrayAppend('array', true));
    await h.call('mutateIn', k('ar'), SD.arrayAppend('array', 1, 2, 3));
    await h.call('mutateIn', k('ar'), SD.arrayPrepend('array', [42]));
    expect((await h.call('retrieveIn', k('ar'), 'array')).at(0)).to.deep.equal([[42], true, 1, 2, 3]);
    await h.call('mutateIn', k('ar'), SD.arrayInsert('array[1]', 'x', 'y'));
    expect((await h.call('retrieveIn', k('ar'), 'array')).at(0)).to.deep.equal([[42], 'x', 'y', true, 1, 2, 3]);
    // Uniqueness needs an array of primitives: one holding [42] cannot say (the server's PATH_MISMATCH).
    expect(await expectReject(h.call('mutateIn', k('ar'), SD.arrayAddUnique('array', 'unique')))).to.be.instanceOf(SubdocPathMismatchError);
    await h.call('mutateIn', k('ar'), SD.arrayAddUnique('flat', 'unique').withCreateParents());
    expect(await expectReject(h.call('mutateIn', k('ar'), SD.arrayAddUnique('flat', 'unique')))).to.be.instanceOf(SubdocPathExistsError);
    expect(await expectReject(h.call('mutateIn', k('ar'), SD.arrayAddUnique('flat', [])))).to.be.instanceOf(SubdocCantInsertValueError);
    await h.call('mutateIn', k('ar'), SD.arrayAppend('created.list', 'first').withCreateParents());
    expect((await h.call('retrieveIn', k('ar'), 'created.list')).at(0)).to.deep.equal(['first']);
    // a document that is itself an array: the root path ''
    await h.call('upsert', k('root'), []);
    await h.call('mutateIn', k('root'), SD.arrayAppend('', 1), SD.arrayPrepend('', 0), SD.arrayAddUnique('', 2));
    expect((await h.call('get', k('root'))).value).to.deep.equal([0, 1, 2]);
    expect((await h.call('lookupIn', k('root'), SD.getCount(''))).at(0)).to.equal(3);
    expect((await h.call('retrieveIn', k('root'), '[-1]')).at(0)).to.equal(2);
  });

  it('counter and remove: the counter\'s value comes back in the result; a zero delta is refused before sending', async function () {
    const h = c.h();
    await h.call('upsert', k('ct'), {});
    const rv = await h.call('mutateIn', k('ct'), SD.counter('counter', 100));
    expect(rv.at(0)).to.equal(100);
    const two = await h.call('mutateIn', k('ct'), SD.upsert('other', 1), SD.counter('counter', -40));
    expect(two.at(1)).to.equal(60);
    expect(two.get(0)).to.deep.equal([0, undefined]);
    expect(() => SD.counter('counter', 0)).to.throw(ArgumentError);
    await h.call('mutateIn', k('ct'), SD.remove('counter'));
    expect((await h.call('lookupIn', k('ct'), SD.exists('counter'))).exists(0)).to.equal(false);
    await h.call('mutateIn', k('ct'), SD.counter('deep.count', 5, true));
    expect((await h.call('retrieveIn', k('ct'), 'deep.count')).at(0)).to.equal(5);
  });

  it('mutateIn creates the document with createDoc / upsertDoc, insertDoc only when it is missing, and sets a ttl', async function () {
    const h = c.h();
    expect(await expectReject(h.call('mutateIn', k('new'), SD.upsert('a', 1)))).to.be.instanceOf(NotFoundError);
    await h.call('mutateIn', k('new'), SD.upsert('a', 1), { upsertDoc: true });
    await h.call('mutateIn', k('new2'), SD.upsert('b.c', 2, true), { createDoc: true });
    expect((await h.call('get', k('new'))).value).to.deep.equal({ a: 1 });
    expect((await h.call('get', k('new2'))).value).to.deep.equal({ b: { c: 2 } });
    await h.call('mutateIn', k('ins'), SD.upsert('a', 1), { insertDoc: true });
    expect(await expectReject(h.call('mutateIn', k('ins'), SD.upsert('a', 2), { insertDoc: true }))).to.be.instanceOf(KeyExistsError);
    expect(await expectReject(h.call('mutateIn', k('ins'), SD.upsert('a', 2), { insertDoc: true, upsertDoc: true }))).to.be.instanceOf(ArgumentError);
    const now = Math.floor(Date.now() / 1000);
    await h.call('mutateIn', k('new'), SD.upsert('a', 2), { ttl: 300 });
    expect((await h.call('lookupIn', k('new'), SD.get('$document.exptime', { xattr: true }))).at(0)).to.be.within(now + 290, now + 310);
  });

  it('reads and writes every path form: nested objects and arrays, negative index, quoted names with dots and brackets', async function () {
    const h = c.h();
    await h.call('upsert', k('pf'), { a: { b: [[1, 2], [3, { c: 'deep' }]] }, 'x.y': { 'z[0]': 'quoted' }, 'back`tick': 1 });
    const r = await h.call('lookupIn', k('pf'), SD.get('a.b[0][1]'), SD.get('a.b[1][1].c'), SD.get('a.b[-1][0]'), SD.get('`x.y`.`z[0]`'), SD.get('`back``tick`'));
    expect([...r]).to.deep.equal([2, 'deep', 3, 'quoted', 1]);
    await h.call('mutateIn', k('pf'), SD.upsert('`x.y`.new', true), SD.replace('a.b[1][1].c', 'changed'), SD.remove('a.b[0][-1]'));
    const after = (await h.call('get', k('pf'))).value;
    expect(after['x.y'].new).to.equal(true);
    expect(after.a.b).to.deep.equal([[1], [3, { c: 'changed' }]]);
    expect(await expectReject(h.call('retrieveIn', k('pf'), 'a..b'))).to.be.instanceOf(SubdocPathInvalidError);
  });
}
