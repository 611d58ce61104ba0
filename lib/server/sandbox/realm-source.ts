// Pieces of JavaScript source that runners put into a sandbox realm (../sandbox/realm.ts): text,
// not functions of this realm, so they can be interpolated into a runner's source.

/**
 * An expression for a function that describes what user code threw as "Name: message", without
 * letting a throwing getter or toString escape (it runs inside the realm, under the call's time
 * limit). It captures String when the runner is set up, before user code can replace it.
 */
export const DESCRIBE_SOURCE = String.raw`(function (Str) {
    return function describe(e) {
      try {
        if (e !== null && typeof e === 'object') {
          var name = e.name, message = e.message;
          if (typeof name === 'string' && typeof message === 'string') return name + ': ' + message;
        }
        var s = Str(e);
        return typeof s === 'string' ? s : 'unprintable exception';
      } catch (x) {
        return 'unprintable exception';
      }
    };
  })(String)`;
