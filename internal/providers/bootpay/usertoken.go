package bootpay

import (
	"context"
	"net/http"
	"time"
)

// UserTokenRequest identifies the customer for Bootpay's easy/password
// subscription window.
type UserTokenRequest struct {
	UserID string // required: the merchant's customer id
	Email  string
	Name   string
	Gender *int // 0 female, 1 male; nil = not sent
	Birth  string
	Phone  string
}

// UserToken is passed to the client window as user_token.
type UserToken struct {
	Token     string
	ExpiresAt time.Time
}

// String hides the token, which lets its holder open the customer's
// password window.
func (t UserToken) String() string {
	return "bootpay.UserToken{Token:[redacted], ExpiresAt:" + t.ExpiresAt.Format(time.RFC3339) + "}"
}

type v2UserTokenRequest struct {
	UserID   string `json:"user_id"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
	Gender   *int   `json:"gender,omitempty"`
	Birth    string `json:"birth,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

type v1UserTokenRequest struct {
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	Name   string `json:"name,omitempty"`
	Gender *int   `json:"gender,omitempty"`
	Birth  string `json:"birth,omitempty"`
	Phone  string `json:"phone,omitempty"`
}

// UserToken issues a user token: v2 POST /request/user/token (the name goes
// in "username", expiry comes back as ISO-8601 expired_at), v1 POST
// /request/user/token ("name", expiry as expired_unixtime). Tokens live one
// hour at Bootpay; the caller may reuse one while it has time left.
func (c *Client) UserToken(ctx context.Context, req UserTokenRequest) (UserToken, error) {
	const op = "user_token"
	if req.UserID == "" {
		return UserToken{}, c.rejectLocal(op, "user id is required")
	}
	if req.Gender != nil && *req.Gender != 0 && *req.Gender != 1 {
		return UserToken{}, c.rejectLocal(op, "gender must be 0 (female) or 1 (male)")
	}
	cl := call{op: op, method: http.MethodPost, path: "/request/user/token", route: "/request/user/token", write: true}
	if c.v1 {
		cl.body = v1UserTokenRequest{UserID: req.UserID, Email: req.Email, Name: req.Name, Gender: req.Gender, Birth: req.Birth, Phone: req.Phone}
		var r struct {
			UserToken       string   `json:"user_token"`
			ExpiredUnixtime wireTime `json:"expired_unixtime"`
		}
		if err := c.send(ctx, cl, &r); err != nil {
			return UserToken{}, err
		}
		return c.userToken(cl, r.UserToken, r.ExpiredUnixtime.Time)
	}
	cl.body = v2UserTokenRequest{UserID: req.UserID, Email: req.Email, Username: req.Name, Gender: req.Gender, Birth: req.Birth, Phone: req.Phone}
	var r struct {
		UserToken string   `json:"user_token"`
		ExpiredAt wireTime `json:"expired_at"`
	}
	if err := c.send(ctx, cl, &r); err != nil {
		return UserToken{}, err
	}
	return c.userToken(cl, r.UserToken, r.ExpiredAt.Time)
}

func (c *Client) userToken(cl call, tok string, exp time.Time) (UserToken, error) {
	if tok == "" || exp.IsZero() {
		return UserToken{}, c.unreadable(cl, reply{status: http.StatusOK}, errFieldMissing("user_token or its expiry"))
	}
	return UserToken{Token: tok, ExpiresAt: exp}, nil
}
